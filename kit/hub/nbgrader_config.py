# nbgrader in the students' servers: where the Assignment List fetches releases and submits notebooks.
# The exchange is a folder shared by every server of the hub (a volume mounted at the same path everywhere,
# writable by all); the course id must be the one the instructor releases under.
c = get_config()  # noqa: F821 (nbgrader provides get_config)
c.CourseDirectory.course_id = "convolutions-by-hand"
c.Exchange.root = "/srv/nbgrader/exchange"
