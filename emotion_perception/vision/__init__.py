"""Vision core (no ROS): face detection, the one face preprocessing, the valence model and classifier,
face tracking, and ``EmotionRecognizer`` which composes them."""
