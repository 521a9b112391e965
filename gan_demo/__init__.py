"""gan_demo: the tutorial "Create AI-generated wildlife" in Python, and the tools around it."""
