"""Groups of the iBUG 68-point landmark scheme, named from the image's side: the eye on the
image's left (points 36-41) is the subject's right eye."""

IMAGE_LEFT_EYE = slice(36, 42)
IMAGE_RIGHT_EYE = slice(42, 48)
