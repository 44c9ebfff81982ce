"""Face detection, 68-point landmarks and alignment (dlib)."""
