# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The planner example against emotion_perception on the packaged clip (or your camera): the "Connect your planner"
tutorial in one command.

    ros2 launch emotion_perception planner_example.launch.py                       # the packaged clip, looping
    ros2 launch emotion_perception planner_example.launch.py use_video:=false image_topic:=/camera/color/image_raw

It includes perception.launch.py (perception, action feedback and, with use_video:=true, the video publisher) and
starts planner_example in the same namespace; every other argument of perception.launch.py passes through.
"""

from launch.actions import DeclareLaunchArgument, GroupAction, IncludeLaunchDescription
from launch.launch_description import LaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node, PushROSNamespace
from launch_ros.substitutions import FindPackageShare

PACKAGE = "emotion_perception"


def generate_launch_description() -> LaunchDescription:
    """perception.launch.py with the clip as camera by default, and the planner beside it in its namespace."""
    arguments = [
        DeclareLaunchArgument(
            "namespace", default_value="",
            description="ROS namespace of every node, the planner's included (e.g. robot1); empty = none"),
        DeclareLaunchArgument(
            "use_video", default_value="true", choices=["true", "false"],
            description="play video_path (default: the packaged clip) as the camera; false: read image_topic"),
        DeclareLaunchArgument(
            "repertoire", default_value="[tell_joke, offer_tissue, wave]",
            description="the planner's action names, tried in turn; one badly received twice is dropped"),
    ]
    perception = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(PathJoinSubstitution([FindPackageShare(PACKAGE), "launch",
                                                            "perception.launch.py"])),
        launch_arguments={"namespace": LaunchConfiguration("namespace"),
                          "use_video": LaunchConfiguration("use_video")}.items(),
    )
    planner = GroupAction([
        PushROSNamespace(LaunchConfiguration("namespace")),
        Node(package=PACKAGE, executable="planner_example", name="planner_example", output="screen",
             parameters=[{"repertoire": LaunchConfiguration("repertoire")}]),
    ])
    return LaunchDescription([*arguments, perception, planner])
