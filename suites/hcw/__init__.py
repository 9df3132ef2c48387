"""HCW@Home conformance checks."""
