"""Offline training, evaluation and export of the valence model (never imports rclpy)."""
