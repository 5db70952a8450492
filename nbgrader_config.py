"""nbgrader configuration: the repository root is the course directory.

solutions/NAME/ holds the instructor notebooks (solutions and hidden tests);
`nbgrader generate_assignment NAME` writes the student release to exercises/NAME/.
Grading state (submitted/, autograded/, feedback/, gradebook.db) stays out of git.
"""

c = get_config()  # noqa: F821  (injected by nbgrader)

c.CourseDirectory.course_id = "cnn-course"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.root = "."
