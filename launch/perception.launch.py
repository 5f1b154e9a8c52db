# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Start emotion_perception: the perception node and the action-feedback node (optionally a video as camera).

    ros2 launch emotion_perception perception.launch.py image_topic:=/camera/color/image_raw
    ros2 launch emotion_perception perception.launch.py use_video:=true           # the packaged clip
    ros2 launch emotion_perception perception.launch.py use_video:=true video_path:=/path/to/my.mp4
    ros2 launch emotion_perception perception.launch.py use_video:=true namespace:=robot1   # /robot1/human/...
    ros2 launch emotion_perception perception.launch.py use_video:=true autostart:=false  # ros2 lifecycle set ...

Parameters come from config/emotion_perception.yaml (one section per node); the arguments below
override the few that depend on the robot. Run `ros2 launch ... --show-args` for the list. Every node runs
in `namespace` (topics are relative: human/reaction, robot/action, ...), so robots can share one graph.
perception_node is a lifecycle node: with autostart:=true (the default) it brings itself to active, in its
own process (so a respawned one does too, and a bad model still ends it with status 1 for respawn to see),
rather than through launch's ChangeState events, which launch would have to re-emit for every respawn.
"""

from launch.action import Action
from launch.actions import DeclareLaunchArgument, GroupAction, LogInfo, OpaqueFunction, SetEnvironmentVariable
from launch.conditions import IfCondition
from launch.launch_context import LaunchContext
from launch.launch_description import LaunchDescription
from launch.substitution import Substitution
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node, PushROSNamespace
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

from emotion_perception.ros.fastdds_profile import profile_variable, user_transport_choice

PACKAGE = "emotion_perception"


def fastdds_profile(context: LaunchContext, profile: Substitution) -> list[Action]:
    """Our shared-memory profile for every node, unless the user already chose a Fast DDS profile or transports."""
    chosen = user_transport_choice(context.environment)
    if chosen is not None:
        return [LogInfo(msg=f"Fast DDS: keeping your {chosen}; config/fastdds_shm.xml not loaded (camera-sized"
                        " frames between processes need a large shared-memory segment or LARGE_DATA: see the README)")]
    variable = profile_variable()  # only the name this Fast DDS reads: Fast DDS 3 warns on the old one
    path = profile.perform(context)
    return [SetEnvironmentVariable(variable, path), LogInfo(msg=f"Fast DDS: {variable}={path} (a 32 MB shared-memory"
                                                                   " segment for camera-sized frames)")]


def generate_launch_description() -> LaunchDescription:
    """The nodes in their namespace, their shared YAML, the camera remapping and the Fast DDS shared-memory profile."""
    share = FindPackageShare(PACKAGE)
    image_topic = LaunchConfiguration("image_topic")
    params_file = LaunchConfiguration("params_file")
    use_sim_time = ParameterValue(LaunchConfiguration("use_sim_time"), value_type=bool)

    arguments = [
        DeclareLaunchArgument(
            "namespace", default_value="",
            description="ROS namespace of every node and topic (e.g. robot1: /robot1/human/reaction); empty = none"),
        DeclareLaunchArgument(
            "image_topic", default_value="camera/image_raw",
            description="camera topic the perception node reads (its relative 'image' is remapped to it; a relative"
            " name resolves in namespace); with compressed:=true the node reads <image_topic>/compressed"),
        DeclareLaunchArgument(
            "compressed", default_value="false", choices=["true", "false"],
            description="read sensor_msgs/CompressedImage (JPEG/PNG) from <image_topic>/compressed instead of"
            " raw sensor_msgs/Image"),
        DeclareLaunchArgument(
            "model_path", default_value="",
            description="valence model file (.pt); empty = the model shipped with the package"),
        DeclareLaunchArgument(
            "params_file", default_value=PathJoinSubstitution([share, "config", "emotion_perception.yaml"]),
            description="parameter YAML with a section per node"),
        DeclareLaunchArgument(
            "use_sim_time", default_value="false", choices=["true", "false"],
            description="use /clock (e.g. when playing a rosbag) instead of the system clock; with use_video:=true"
            " the video publisher drives /clock on the video's own timeline"),
        DeclareLaunchArgument(
            "use_video", default_value="false", choices=["true", "false"],
            description="start video_publisher on video_path in place of a real camera, publishing raw images on"
            " image_topic (keep compressed:=false)"),
        DeclareLaunchArgument(
            "video_path", default_value=PathJoinSubstitution([share, "media", "WolfgangLanger_Pexels.mp4"]),
            description="video file, image folder or webcam index for use_video:=true (default: the packaged clip"
            " of a person going from crying to laughing)"),
        DeclareLaunchArgument(
            "video_loop", default_value="true", choices=["true", "false"],
            description="restart the video when it ends (use_video:=true)"),
        DeclareLaunchArgument(
            "hri", default_value="false", choices=["true", "false"],
            description="also publish ROS4HRI (REP-155) humans/faces/tracked and humans/faces/<id>/{roi,expression}"
            " (needs hri_msgs)"),
        DeclareLaunchArgument(
            "use_shm_profile", default_value="true", choices=["true", "false"],
            description="load config/fastdds_shm.xml (a 32 MB shared-memory segment) so camera-sized frames"
            " cross processes with Fast DDS, where no FASTDDS_DEFAULT_PROFILES_FILE, FASTRTPS_DEFAULT_PROFILES_FILE or"
            " FASTDDS_BUILTIN_TRANSPORTS is set already (yours is always kept); false: never load it"),
        DeclareLaunchArgument(
            "respawn", default_value="false", choices=["true", "false"],
            description="restart perception, action feedback and dashboard 2 s after one exits (a node exits 1"
            " when its worker dies or it cannot start; Ctrl-C stops them for good)"),
        DeclareLaunchArgument(
            "autostart", default_value="true", choices=["true", "false"],
            description="perception_node (a lifecycle node) configures and activates itself at start, also after a"
            " respawn, and exits 1 if its model is bad; false: it waits unconfigured for `ros2 lifecycle set"
            " <namespace>/perception_node configure`, then `activate` (`deactivate` pauses it: no frame is processed)"),
        DeclareLaunchArgument(
            "dashboard", default_value="false", choices=["true", "false"],
            description="start the live web dashboard on http://127.0.0.1:8080 (host, port, token: params_file)"),
    ]

    shm_profile = GroupAction(
        [OpaqueFunction(function=fastdds_profile, args=[PathJoinSubstitution([share, "config", "fastdds_shm.xml"])])],
        condition=IfCondition(LaunchConfiguration("use_shm_profile")), scoped=False)
    respawn = {"respawn": LaunchConfiguration("respawn"), "respawn_delay": 2.0}

    video_publisher = Node(
        package=PACKAGE, executable="video_publisher", name="video_publisher", output="screen",
        condition=IfCondition(LaunchConfiguration("use_video")),
        parameters=[params_file, {
            "source": ParameterValue(LaunchConfiguration("video_path"), value_type=str),  # '0' stays a string
            "loop": ParameterValue(LaunchConfiguration("video_loop"), value_type=bool),
            "publish_clock": use_sim_time,  # it plays at wall pace and is the others' clock
        }],
        remappings=[("image", image_topic)],
    )
    perception = Node(
        package=PACKAGE, executable="perception_node", name="perception_node", output="screen", **respawn,
        parameters=[params_file, {
            "compressed_input": ParameterValue(LaunchConfiguration("compressed"), value_type=bool),
            "model_path": LaunchConfiguration("model_path"),
            "hri_output": ParameterValue(LaunchConfiguration("hri"), value_type=bool),
            "autostart": ParameterValue(LaunchConfiguration("autostart"), value_type=bool),
            "use_sim_time": use_sim_time,
        }],
        remappings=[("image", image_topic), ("image/compressed", [image_topic, "/compressed"])],
    )
    feedback = Node(
        package=PACKAGE, executable="action_feedback_node", name="action_feedback_node", output="screen", **respawn,
        parameters=[params_file, {"use_sim_time": use_sim_time}],
    )
    dashboard = Node(
        package=PACKAGE, executable="dashboard", name="dashboard", output="screen", **respawn,
        condition=IfCondition(LaunchConfiguration("dashboard")),
        parameters=[params_file, {"use_sim_time": use_sim_time}],
    )
    nodes = GroupAction([PushROSNamespace(LaunchConfiguration("namespace")), video_publisher, perception, feedback,
                         dashboard])
    return LaunchDescription([*arguments, shm_profile, nodes])
