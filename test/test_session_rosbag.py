# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Session files for ROS tools: another implementation (rosbags) reads every recorded message and the publishers'
QoS as rosbag2 stores them; ``--images`` adds Foxglove face boxes, one set per frame; the Foxglove layout shows what
the recorder writes; ``replay`` leaves out what it cannot publish."""

from __future__ import annotations

import importlib.util
import json
import runpy
import signal
import sys
import threading
import time
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace

import pytest
import rclpy
import yaml
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from foxglove_schemas_protobuf.ImageAnnotations_pb2 import ImageAnnotations
from helpers import PROCESS_TEST_TIMEOUT_S, ROOT, load, wait_for
from mcap.reader import make_reader
from node_process import NodeProcess
from rclpy.duration import Duration
from rclpy.executors import Executor
from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    QoSProfile,
    ReliabilityPolicy,
    qos_profile_sensor_data,
)
from rclpy.serialization import serialize_message
from rosbags.highlevel import AnyReader
from rosbags.rosbag2.metadata import parse_qos
from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from emotion_msgs.msg import EmotionReaction, EmotionReactionArray, RobotAction
from emotion_perception.ros.image_conversion import numpy_to_image
from emotion_perception.ros.messages import ns_to_stamp, reaction_to_msg, reactions_to_array
from emotion_perception.ros.sim_clock import CLOCK_QOS, CLOCK_TOPIC
from emotion_perception.tools.session import replay
from emotion_perception.tools.session.face_annotations import (
    ANNOTATIONS_TYPE,
    LINE_LOOP,
    FaceAnnotator,
    encode_annotations,
    label,
)
from emotion_perception.tools.session.message_definitions import BUNDLED, message_class
from emotion_perception.tools.session.record import (
    ANNOTATIONS_TOPIC,
    DEFAULT_IMAGE_TOPIC,
    SESSION_TOPICS,
    qos_metadata,
)
from emotion_perception.tools.session.replay import SessionPlayer
from emotion_perception.tools.session.session_file import SessionReader, SessionWriter
from emotion_perception.vision.recognizer import EmotionRecognizer

RELIABLE_10 = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
#: Fast DDS reports an unset deadline, lifespan or lease as infinite: rosbag2 stores it so.
INFINITE = (9223372036, 854775807)
START_NS = 1_700_000_000 * 1_000_000_000
FRAMES = 6
#: Frames the perception node "skipped" (no reactions published for them): 2 before later ones, 5 at the end.
SKIPPED = {2, FRAMES - 1}


def rosbags_read(path: Path) -> tuple[dict[str, list], dict[str, list], dict[str, list[int]]]:
    """Topic -> offered QoS, topic -> every message deserialised, topic -> log times, as rosbags reads them from the
    schemas embedded in the file (an empty type store: nothing comes from this machine's message packages)."""
    with AnyReader([path], default_typestore=get_typestore(Stores.EMPTY)) as reader:
        qos = {c.topic: c.ext.offered_qos_profiles for c in reader.connections}
        messages: dict[str, list] = {c.topic: [] for c in reader.connections}
        times: dict[str, list[int]] = {c.topic: [] for c in reader.connections}
        for connection, log_time, raw in reader.messages():
            messages[connection.topic].append(reader.deserialize(raw, connection.msgtype))
            times[connection.topic].append(log_time)
    return qos, messages, times


def corners(reaction: EmotionReaction) -> list[tuple[float, float]]:
    f = reaction.face
    return [(f.x_offset, f.y_offset), (f.x_offset + f.width, f.y_offset),
            (f.x_offset + f.width, f.y_offset + f.height), (f.x_offset, f.y_offset + f.height)]


@pytest.mark.timeout(PROCESS_TEST_TIMEOUT_S)
def test_record_images_gives_rosbags_every_message_the_publishers_qos_and_a_face_box_set_per_frame(
    ros_context: object, executor: Executor, tmp_path: Path
) -> None:
    path = tmp_path / "session.mcap"
    recorder = NodeProcess([sys.executable, "-m", "emotion_perception.tools.session.record", "-o", str(path),
                            "--images", "--flush-interval", "0.2"])
    recorder.expect("recording ", timeout=60.0)
    node = rclpy.create_node("robot", context=ros_context)
    executor.add_node(node)
    camera = node.create_publisher(Image, DEFAULT_IMAGE_TOPIC, qos_profile_sensor_data)
    per_face = node.create_publisher(EmotionReaction, "/human/reaction", RELIABLE_10)
    arrays = node.create_publisher(EmotionReactionArray, "/human/reactions", RELIABLE_10)
    latched = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
    actions = node.create_publisher(RobotAction, "/robot/action", latched)
    diagnostics = [node.create_publisher(DiagnosticArray, "/diagnostics", RELIABLE_10),
                   node.create_publisher(DiagnosticArray, "/diagnostics", QoSProfile(
                       depth=10, deadline=Duration(seconds=2), lifespan=Duration(seconds=30)))]
    publishers = [camera, per_face, arrays, actions, *diagnostics]
    assert wait_for(lambda: all(p.get_subscription_count() > 0 for p in publishers), 30.0), recorder.tail()

    image = load("pexels_five_faces.jpg")
    recognizer = EmotionRecognizer()  # the real model: real boxes, ids and valences
    sent: dict[int, list[EmotionReaction]] = {}
    actions.publish(RobotAction(header=Header(stamp=ns_to_stamp(START_NS)), action_id="wave-0", name="wave"))
    for i, publisher in enumerate(diagnostics):
        publisher.publish(DiagnosticArray(status=[DiagnosticStatus(name=f"node_{i}", message="ok")]))
    for frame in range(FRAMES):
        header = Header(stamp=ns_to_stamp(START_NS + frame * 100_000_000), frame_id="camera_optical_frame")
        reactions = recognizer.run(image)
        camera.publish(numpy_to_image(image, "bgr8", header))
        time.sleep(0.1)  # the node's latency; a best-effort reader of depth 5 keeps every frame
        if frame not in SKIPPED:
            sent[frame] = [reaction_to_msg(r, header) for r in reactions]
            for msg in sent[frame]:
                per_face.publish(msg)
            arrays.publish(reactions_to_array(reactions, header))
    expected = {"/camera/image_raw": FRAMES, "/human/reactions": len(sent),
                "/human/reaction": sum(map(len, sent.values())), "/robot/action": 1, "/diagnostics": 2}

    def recorded() -> bool:
        reader = SessionReader(path)
        counts: dict[str, int] = {}
        for message, _ in reader.messages():
            counts[message.topic] = counts.get(message.topic, 0) + 1
        return all(counts.get(t, 0) >= n for t, n in expected.items())

    assert wait_for(recorded, 60.0, period=0.2), recorder.tail()
    hashes = {t: str(node.get_publishers_info_by_topic(t)[0].topic_type_hash) for t in expected}
    assert recorder.stop(signal.SIGINT) == 0, recorder.tail()
    assert f"record: {sum(expected.values()) + FRAMES} messages in {path}" in recorder.output

    qos, messages, times = rosbags_read(path)
    # Every topic, with every message as published; the feedback topic had no publisher: no message, no offer.
    assert set(qos) == {*expected, "/human/action_feedback", "/" + ANNOTATIONS_TOPIC}
    assert {t: len(m) for t, m in messages.items()} == {**expected, "/human/action_feedback": 0,
                                                         "/" + ANNOTATIONS_TOPIC: FRAMES}
    assert qos["/human/action_feedback"] == []
    assert [m.face_id for m in messages["/human/reaction"]] == [r.face_id for f in sorted(sent) for r in sent[f]]
    assert [m.valence_score for m in messages["/human/reaction"]] == pytest.approx(
        [r.valence_score for f in sorted(sent) for r in sent[f]])
    assert messages["/robot/action"][0].name == "wave"
    frames = messages["/camera/image_raw"]
    assert (frames[0].width, frames[0].height, bytes(frames[0].data)) == (640, 480, image.tobytes())

    # The QoS each publisher offered, as rosbag2 stores it (and plays it back with).
    (camera_qos,) = qos["/camera/image_raw"]
    assert (camera_qos.reliability.name, camera_qos.durability.name) == ("BEST_EFFORT", "VOLATILE")
    assert (camera_qos.deadline.sec, camera_qos.deadline.nsec) == INFINITE
    (action_qos,) = qos["/robot/action"]
    assert (action_qos.reliability.name, action_qos.durability.name) == ("RELIABLE", "TRANSIENT_LOCAL")
    diagnostics_qos = sorted(qos["/diagnostics"], key=lambda q: q.deadline.sec)
    assert [(q.deadline.sec, q.deadline.nsec) for q in diagnostics_qos] == [(2, 0), INFINITE]
    assert [(q.lifespan.sec, q.lifespan.nsec) for q in diagnostics_qos] == [(30, 0), INFINITE]
    assert {q.liveliness.name for q in diagnostics_qos} == {"AUTOMATIC"}
    assert qos["/" + ANNOTATIONS_TOPIC] == qos["/camera/image_raw"]  # played back as the frames are
    with path.open("rb") as stream:
        channels = {c.topic: c.metadata for c in make_reader(stream).get_summary().channels.values()}
    assert {t: channels[t]["topic_type_hash"] for t in expected} == hashes
    assert all(h.startswith("RIHS01_") for h in hashes.values())

    # One annotation set per frame, at the frame's log time and stamp: the boxes of that frame's faces.
    annotations = dict(zip(times["/" + ANNOTATIONS_TOPIC], messages["/" + ANNOTATIONS_TOPIC], strict=True))
    assert sorted(annotations) == sorted(times["/camera/image_raw"])
    for log_time, frame in zip(times["/camera/image_raw"], frames, strict=True):
        index = round((frame.header.stamp.sec * 10**9 + frame.header.stamp.nanosec - START_NS) / 100_000_000)
        boxes = annotations[log_time]
        faces = sent.get(index, [])
        assert len(boxes.points) == len(boxes.texts) == len(faces) == (0 if index in SKIPPED else 5)
        assert {(p.timestamp.sec, p.timestamp.nanosec) for p in [*boxes.points, *boxes.texts]} <= {
            (frame.header.stamp.sec, frame.header.stamp.nanosec)}
        assert [[(q.x, q.y) for q in p.points] for p in boxes.points] == [corners(r) for r in faces]
        assert {p.type for p in boxes.points} <= {LINE_LOOP}
        assert [t.text for t in boxes.texts] == [label(r) for r in faces]
    greens = [p.outline_color for f in annotations.values() for p, r in zip(f.points, f.texts, strict=True)
              if " positive " in r.text]
    assert greens and all(c.g > c.r and c.g > c.b for c in greens)  # coloured like the debug image


def face(face_id: str, x: int) -> SimpleNamespace:
    """What the annotator reads of an EmotionReaction."""
    box = SimpleNamespace(x_offset=x, y_offset=10, width=20, height=30)
    return SimpleNamespace(face_id=face_id, valence=1, confidence=0.9, face=box)


def boxes_of(data: bytes) -> list[str]:
    """The labels of a serialised ImageAnnotations (decoded by rosbags from the bundled definition)."""
    store = get_typestore(Stores.EMPTY)
    for (package, name), text in BUNDLED.items():
        store.register(get_types_from_msg(text, f"{package}/msg/{name}"))
    return [t.text for t in store.deserialize_cdr(data, ANNOTATIONS_TYPE).texts]


def test_face_annotator_gives_each_frame_one_set_whatever_arrives_first() -> None:
    annotator = FaceAnnotator(wait_ns=5_000)
    cam, other = "cam", "other_cam"
    assert annotator.frame((cam, 100), log_time_ns=1_000) == []
    assert annotator.frame((other, 100), log_time_ns=1_001) == []
    assert annotator.frame((cam, 200), log_time_ns=1_100) == []
    # Reactions for 200 arrive: 100 of the same camera was skipped (empty set); the other camera's frame waits on.
    out = annotator.reactions((cam, 200), [face("a", 5)], now_ns=1_200)
    assert [(t, boxes_of(d)) for t, d in out] == [(1_000, []), (1_100, ["a positive 0.90"])]
    assert annotator.waiting == 1
    # Reactions before their frame: the frame takes them when it comes.
    assert annotator.reactions((cam, 300), [face("b", 5), face("", 50)], now_ns=1_300) == []
    ((t, data),) = annotator.frame((cam, 300), log_time_ns=1_350)
    assert (t, boxes_of(data)) == (1_350, ["b positive 0.90", "positive 0.90"])
    # Nobody answers: an empty set once the wait is over, and reactions without their frame are forgotten.
    assert annotator.reactions((cam, 900), [face("c", 5)], now_ns=2_000) == []
    assert annotator.expire(now_ns=6_000) == []
    assert [(t, boxes_of(d)) for t, d in annotator.expire(now_ns=6_002)] == [(1_001, [])]
    assert annotator.expire(now_ns=7_001) == [] and annotator.frame((cam, 900), 7_100) == []
    assert annotator.waiting == 1
    assert [(t, boxes_of(d)) for t, d in annotator.finish()] == [(7_100, [])]
    assert annotator.waiting == 0


def test_the_bundled_foxglove_messages_are_foxglove_s_published_schema() -> None:
    """Field by field against Foxglove's own protobuf schema (PyPI), less the ``metadata`` lists and the message-level
    ``timestamp`` that foxglove_msgs 3.x (Jazzy, Kilted) does not have."""
    newer = {"metadata", "ImageAnnotations.timestamp"}
    proto_types = {1: "float64", 9: "string"}  # TYPE_DOUBLE, TYPE_STRING
    seen = set()
    pending = [ImageAnnotations.DESCRIPTOR]
    while pending:
        descriptor = pending.pop()
        if descriptor.full_name in seen or descriptor.full_name.startswith("google."):
            continue
        seen.add(descriptor.full_name)
        ours = [line.split("#")[0].split() for line in BUNDLED["foxglove_msgs", descriptor.name].splitlines()]
        fields = [(f[1], f[0]) for f in ours if len(f) == 2 and "=" not in f[1]]
        constants = {f[1].split("=")[0]: int(f[1].split("=")[1]) for f in ours if len(f) == 2 and "=" in f[1]}
        expected = []
        for field in sorted(descriptor.fields, key=lambda f: f.number):
            if field.name in newer or f"{descriptor.name}.{field.name}" in newer:
                continue
            if field.message_type is not None:
                name = field.message_type.name
                kind = "builtin_interfaces/Time" if name == "Timestamp" else f"foxglove_msgs/{name}"
                pending.append(field.message_type)
            elif field.enum_type is not None:
                kind = "uint8"
                assert constants == {v.name: v.number for v in field.enum_type.values}
            else:
                kind = proto_types[field.type]
            expected.append((field.name, kind + ("[]" if field.is_repeated else "")))
        assert fields == expected, descriptor.full_name
    assert {f"foxglove.{name}" for _, name in BUNDLED} == seen


def test_qos_metadata_is_what_rosbag2_and_rosbags_read() -> None:
    profiles = [QoSProfile(depth=7, reliability=ReliabilityPolicy.BEST_EFFORT, deadline=Duration(seconds=1.5)),
                QoSProfile(history=HistoryPolicy.KEEP_ALL, durability=DurabilityPolicy.TRANSIENT_LOCAL)]
    (first, second) = parse_qos(yaml.safe_dump([qos_metadata(p) for p in profiles], sort_keys=False))
    assert (first.history.name, first.depth, first.reliability.name) == ("KEEP_LAST", 7, "BEST_EFFORT")
    assert (first.deadline.sec, first.deadline.nsec) == (1, 500_000_000)
    assert (second.history.name, second.durability.name) == ("KEEP_ALL", "TRANSIENT_LOCAL")
    assert qos_metadata(profiles[0])["liveliness"] == "system_default"  # rmw's names, as rosbag2 9 writes them


def message_fields(type_name: str, path: list[str]) -> str:
    """The type of field ``path`` of ``type_name`` (a sequence's element type for a list), through the installed
    message classes."""
    for name in path:
        fields = message_class(type_name).get_fields_and_field_types()
        assert name in fields, f"{type_name} has no field {name}"
        type_name = fields[name].removeprefix("sequence<").removesuffix(">")
    return type_name


def test_the_foxglove_layout_shows_what_record_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    layout = json.loads((ROOT / "config" / "foxglove_layout.json").read_text())
    panels = layout["configById"]

    def leaves(node: object) -> list[str]:
        return [node] if isinstance(node, str) else [*leaves(node["first"]), *leaves(node["second"])]

    assert sorted(leaves(layout["layout"])) == sorted(panels)
    image = panels["Image!faces"]["imageMode"]
    assert image["imageTopic"] == DEFAULT_IMAGE_TOPIC
    assert list(image["annotations"]) == ["/" + ANNOTATIONS_TOPIC]
    recorded = {"/" + t.lstrip("/"): type_name for t, type_name in SESSION_TOPICS.items()}
    paths = [p for panel in panels.values() for p in panel.get("paths", [])]
    paths.append({"value": panels["Table!feedback"]["topicPath"]})
    for path in paths:
        topic, *fields = path["value"].split(".")
        element = message_fields(recorded[topic], fields)
        for key in ("dynamicLabelField", "dynamicValueField"):
            if key in path:
                message_fields(element, [path[key]])
    assert {"/human/reactions", "/human/reaction", "/robot/action", "/human/action_feedback"} <= {
        p["value"].split(".")[0] for p in paths}
    # setup.py installs it beside the parameter files.
    found: dict = {}
    monkeypatch.chdir(ROOT)
    monkeypatch.setitem(sys.modules, "setuptools", SimpleNamespace(
        setup=lambda **kwargs: found.update(kwargs), find_packages=lambda **_: []))
    runpy.run_path(str(ROOT / "setup.py"))
    assert "config/foxglove_layout.json" in dict(found["data_files"])["share/emotion_perception/config"]


def write_session(path: Path, actions_at_ms: list[int], annotated: bool) -> Path:
    writer = SessionWriter(path)
    writer.add_topic("/robot/action", "emotion_msgs/msg/RobotAction")
    if annotated:
        writer.add_topic("/" + ANNOTATIONS_TOPIC, ANNOTATIONS_TYPE)
        writer.write("/" + ANNOTATIONS_TOPIC, encode_annotations([face("a", 5)], START_NS), START_NS)
    for ms in actions_at_ms:
        action = RobotAction(header=Header(stamp=ns_to_stamp(START_NS + ms * 1_000_000)), action_id=f"a{ms}")
        writer.write("/robot/action", serialize_message(action), START_NS + ms * 1_000_000)
    writer.close()
    return path


@pytest.mark.skipif(importlib.util.find_spec("foxglove_msgs") is not None, reason="foxglove_msgs is installed here")
def test_replay_leaves_out_face_boxes_it_cannot_publish_unless_asked_for_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session = write_session(tmp_path / "s.mcap", [0, 100], annotated=True)
    assert replay.main(["replay", str(session), "--lead-in", "0", "--tail", "0"]) == 0
    assert f"replay: 2 messages from {session}" in capsys.readouterr().out
    assert replay.main(["replay", str(session), "--topics", "/" + ANNOTATIONS_TOPIC]) == 1
    assert "foxglove_msgs/msg/ImageAnnotations is not installed" in capsys.readouterr().err


def test_replay_clock_never_goes_back_for_a_message_logged_out_of_order(
    ros_context: object, executor: Executor, tmp_path: Path
) -> None:
    """A face box is written at its frame's log time, after later messages: /clock must not step back for it."""
    session = write_session(tmp_path / "s.mcap", [0, 1_000, 200, 1_100], annotated=False)
    listener = rclpy.create_node("clock_listener", context=ros_context)
    clock: list[int] = []
    lock = threading.Lock()

    def heard(msg: Clock) -> None:
        with lock:
            clock.append(msg.clock.sec * 10**9 + msg.clock.nanosec)

    # The player's best-effort /clock, each message kept (a depth of 1 keeps only the last of a burst).
    listener.create_subscription(Clock, CLOCK_TOPIC, heard, QoSProfile(depth=1000, reliability=CLOCK_QOS.reliability))
    executor.add_node(listener)
    player = SessionPlayer(session, context=ros_context)
    try:
        assert wait_for(lambda: player.count_subscribers("/clock") > 0, 30.0)
        assert player.play(tail=0.2, lead_in=0.1) == 4
    finally:
        player.destroy_node()
    assert wait_for(lambda: len(clock) > 0 and clock[-1] >= START_NS + 1_100_000_000, 10.0)
    with lock:
        steps = [b - a for a, b in pairwise(clock)]
    assert min(steps) >= 0, min(steps)  # neither the 0.8 s back to 0.2 s nor a late wake-up's overshoot
