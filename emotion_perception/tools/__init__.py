"""Tools around the core: the demo, face capture, the video camera stand-in, annotated video and plots."""
