"""The ROS 2 layer: thin nodes, message and image conversion, parameter tables. Only this layer imports rclpy."""
