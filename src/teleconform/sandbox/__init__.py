"""Reference sandboxes: conformant in-memory HCW@Home and Leah servers with fault switches.

They are an independent oracle: nothing here imports teleconform's checks, specs or runner.
"""
