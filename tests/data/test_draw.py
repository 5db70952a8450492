"""Signed distance functions: sign, exact distances where known, and coverage."""

import math

import pytest
import torch

from cnnlib.data import draw


def points(*coords: tuple[float, float]) -> tuple[torch.Tensor, torch.Tensor]:
    """(v, u) tensors of shape (1, 1, P) from (v, u) pairs."""
    v = torch.tensor([[[c[0] for c in coords]]])
    u = torch.tensor([[[c[1] for c in coords]]])
    return v, u


def test_circle_and_box_distances_are_exact():
    v, u = points((0, 0), (0, 1), (0, 3), (2, 0))
    assert torch.allclose(draw.sdf_circle(v, u), torch.tensor([-1.0, 0, 2, 1]))
    v, u = points((0, 0), (0, 2), (3, 3), (0, 0.5))
    box = draw.sdf_box(v, u, 1.0, 1.0)
    assert torch.allclose(box, torch.tensor([-1.0, 1, math.sqrt(8), -0.5]))


@pytest.mark.parametrize("sides", [3, 4, 6])
def test_regular_polygon_vertices_lie_on_the_outline(sides):
    # The first edge faces +u, so vertices sit half a sector off the u axis.
    angles = (torch.arange(sides) + 0.5) * 2 * math.pi / sides
    v, u = torch.sin(angles).view(1, 1, -1), torch.cos(angles).view(1, 1, -1)
    assert torch.allclose(draw.sdf_polygon(v, u, sides), torch.zeros(sides), atol=1e-5)
    # The centre, and the outside point on the u axis, are one apothem away.
    apothem = math.cos(math.pi / sides)
    sdf = draw.sdf_polygon(*points((0, 0), (0, 2 * apothem)), sides)
    assert torch.allclose(sdf, torch.tensor([-apothem, apothem]))


def test_star_tips_notches_and_outside():
    v, u = points((0, 1), (0, 0.5), (0, 1.5))
    star = draw.sdf_star(v, u, points=5, inner=0.45)[0, 0]
    assert abs(star[0]) < 1e-6 and star[1] < 0 and star[2] > 0
    notch = math.pi / 5  # between two tips
    v, u = points((0.45 * math.sin(notch), 0.45 * math.cos(notch)))
    assert abs(draw.sdf_star(v, u, inner=0.45)) < 1e-6


def test_hollow_shapes_are_empty_in_the_middle():
    v, u = points((0, 0), (0, 0.8))
    ring, frame = draw.sdf_ring(v, u)[0, 0], draw.sdf_frame(v, u)[0, 0]
    assert ring[0] > 0 and ring[1] < 0
    assert frame[0] > 0 and frame[1] < 0


def test_coverage_is_half_on_the_outline_and_clipped():
    sdf = torch.tensor([-1.0, -0.01, 0.0, 0.01, 1.0])
    cover = draw.coverage(sdf, pixel_size=0.04)
    assert torch.allclose(cover, torch.tensor([1.0, 0.75, 0.5, 0.25, 0.0]))


def test_to_local_places_rotates_and_scales():
    y, x = draw.pixel_grid(4)
    assert torch.allclose(x[0], torch.tensor([-0.75, -0.25, 0.25, 0.75]))
    one = torch.ones(1)
    v, u = draw.to_local(y, x, 0 * one, 0.25 * one, math.pi / 2 * one, 0.5 * one)
    # The shape's +u axis points down the image (+y) after a quarter turn.
    assert torch.allclose(u[0, 3, 2], torch.tensor(1.5), atol=1e-6)
    assert torch.allclose(v[0, 3, 2], torch.tensor(0.0), atol=1e-6)


def test_segment_distance_and_blend():
    y, x = draw.pixel_grid(4)
    a, b = torch.tensor([[-0.25, -0.75]]), torch.tensor([[-0.25, 0.75]])
    distance = draw.segment_distance(y, x, a, b)  # a horizontal segment on row 1
    assert torch.allclose(distance[0, 1], torch.zeros(4), atol=1e-6)
    assert torch.allclose(distance[0, 3], torch.full((4,), 1.0))
    image = torch.zeros(1, 3, 4, 4)
    painted = draw.blend(
        image, torch.tensor([[1.0, 0.5, 0.0]]), (distance < 0.1).float()
    )
    assert torch.equal(painted[0, :, 1, 0], torch.tensor([1.0, 0.5, 0.0]))
    assert torch.equal(painted[0, :, 2, 0], torch.zeros(3))
