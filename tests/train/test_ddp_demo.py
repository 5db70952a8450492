"""The torchrun demo script, run here as a single process on a tiny dataset."""

from cnnlib.train import ddp_demo


def test_demo_trains_and_reports(capsys):
    history = ddp_demo.main(
        ["--images", "200", "--epochs", "2", "--batch-size", "32", "--no-progress"]
    )
    assert len(history) == 2 and len(history.val_metrics["accuracy"]) == 2
    assert "1 process(es) on" in capsys.readouterr().out


def test_arguments_have_torchrun_safe_names():
    # torchrun abbreviates its own options, so "--n" would be taken for
    # "--nproc-per-node"; the demo's options must not be prefixes of torchrun's.
    args = ddp_demo.parse_args(["--images", "10", "--lr", "0.1"])
    assert args.images == 10 and args.impl == "native"
