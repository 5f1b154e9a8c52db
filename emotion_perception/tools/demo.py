# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""demo: the whole loop on a real-face video, in one process, with the real nodes over DDS.

The video publisher plays a clip (default: a person going from crying to laughing), the
perception node reads the faces' valence, a scripted robot performs a few actions during the
clip, and the action-feedback node judges how each was received. The video publisher drives
``/clock`` on the video's own timeline and every node runs on ``use_sim_time``, so the feedback
windows cover the same seconds of video at any ``--rate`` and on a machine that falls behind.
The demo prints a line per reaction (throttled) and per verdict, and writes to ``--out``
(default ``out/demo/``):
``demo.mp4`` (annotated), ``frame.png`` (one annotated frame), ``timeline.png``,
``summary.json`` and ``session.mcap`` (the session's topics, for ``replay`` and ``report``).
Same nodes and code paths as ``ros2 launch emotion_perception perception.launch.py``, composed
in-process on one ``SingleThreadedExecutor``, as each node spins in its own process (rclpy's
``MultiThreadedExecutor`` spins hot while a node's callback group is busy and another of its entities is
ready; on 2 cores that loop played the clip at a fifth of real time).

    make demo                                  # the packaged clip
    make demo ARGS="--video my.mp4 --rate 2"   # your own video, played twice as fast
"""

from __future__ import annotations

import argparse
import bisect
import json
import math
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import rclpy
from rclpy.context import Context
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from rclpy.utilities import remove_ros_args
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from emotion_msgs.msg import ActionFeedback, EmotionReactionArray, RobotAction
from emotion_msgs.srv import GetActionStats
from emotion_perception.dashboard.server import DashboardServerError
from emotion_perception.feedback.rule import FeedbackConfig, Verdict, seconds_to_ns
from emotion_perception.package_files import package_file
from emotion_perception.ros.action_feedback_node import ActionFeedbackNode
from emotion_perception.ros.dashboard_node import DashboardNode
from emotion_perception.ros.fastdds_profile import use_profile
from emotion_perception.ros.messages import reaction_from_msg, stamp_to_ns
from emotion_perception.ros.parameter_file import load_node_parameters
from emotion_perception.ros.perception_node import PerceptionNode
from emotion_perception.ros.spin_thread import SpinThread
from emotion_perception.tools.annotated_video import AnnotatedVideoWriter
from emotion_perception.tools.polling import wait_for, wait_until_steady
from emotion_perception.tools.session.record import SessionRecorder, session_topics
from emotion_perception.tools.strict_json import finite_or_none
from emotion_perception.tools.timeline_plot import ActionMark, Timeline, ValencePoint, VerdictMark, plot_timeline
from emotion_perception.tools.video_publisher import VideoPublisher
from emotion_perception.tools.video_source import VideoFrame, VideoSource, VideoSourceError, default_clip_path
from emotion_perception.vision.detection import DetectorLoadError
from emotion_perception.vision.model_card import ModelLoadError

#: Robot actions scripted on the packaged clip (seconds into it): one while she cries, one just
#: before she turns from sad to happy (≈ 9.5 s), one while she laughs at the end.
CLIP_ACTIONS: tuple[tuple[float, str], ...] = ((4.0, "offer_tissue"), (9.0, "tell_joke"), (15.5, "wave_goodbye"))
#: On any other video, actions at these fractions of its length.
VIDEO_ACTIONS: tuple[tuple[float, str], ...] = ((0.25, "greet"), (0.55, "tell_joke"), (0.85, "wave_goodbye"))
CAMERA_TOPIC = "/camera/image_raw"
CLIP_CREDIT = "Video by Wolfgang Langer, Pexels"
PRINT_PERIOD_S = 0.5  # wall seconds between two printed reaction lines
RELIABLE_100 = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)


@dataclass
class DemoOptions:
    """What to play and where to write; see :func:`get_args_parser` for the meaning of each."""

    video: Path | None = None
    out: Path = Path("out/demo")
    rate: float = 1.0
    start: float = 0.0
    end: float | None = None
    actions: list[tuple[float, str]] | None = None
    db: Path | None = None
    model: str = ""
    quiet: bool = False
    extra_wait: float = 5.0
    dashboard_port: int | None = None  # None: no live dashboard (the command line starts one on 8080)
    colour: bool = field(default_factory=lambda: sys.stdout.isatty())


class ClipClock:
    """Seconds into the video of a stamp, from the stamp the video publisher gave each frame.

    Between frames it interpolates; before the first or after the last it extrapolates at one
    second of video per second of ``/clock`` (the video publisher's clock).
    """

    def __init__(self) -> None:
        self._stamps: list[int] = []
        self._positions: list[float] = []
        self._lock = threading.Lock()

    def record(self, stamp_ns: int, position_s: float) -> None:
        with self._lock:
            self._stamps.append(stamp_ns)
            self._positions.append(position_s)

    def seconds(self, stamp_ns: int) -> float:
        with self._lock:
            if not self._stamps:
                return math.nan
            i = bisect.bisect_right(self._stamps, stamp_ns)
            if 0 < i < len(self._stamps):
                (s0, s1), (p0, p1) = self._stamps[i - 1 : i + 1], self._positions[i - 1 : i + 1]
                return p0 + (p1 - p0) * (stamp_ns - s0) / max(s1 - s0, 1)
            j = 0 if i == 0 else -1
            return self._positions[j] + (stamp_ns - self._stamps[j]) * 1e-9


class ScriptedRobot(Node):
    """Publishes a ``RobotAction`` on ``/robot/action`` when the video reaches each scripted time."""

    def __init__(self, actions: list[tuple[float, str]], clock: ClipClock, **kwargs) -> None:
        super().__init__("scripted_robot", **kwargs)
        self._todo = sorted(actions)
        self._clock = clock
        self._publisher = self.create_publisher(RobotAction, "/robot/action", RELIABLE_100)
        self.create_subscription(Image, CAMERA_TOPIC, self._on_frame, qos_profile_sensor_data)

    @property
    def remaining(self) -> int:
        return len(self._todo)

    def _on_frame(self, msg: Image) -> None:
        now_s = self._clock.seconds(stamp_to_ns(msg.header.stamp))
        while self._todo and self._todo[0][0] <= now_s:
            _, name = self._todo.pop(0)
            action = RobotAction(action_id=f"{name}-{uuid.uuid4().hex[:8]}", name=name, duration=0.0)
            action.header.stamp = msg.header.stamp  # the action starts with this frame
            self._publisher.publish(action)


def _bar(score: float, half: int = 10) -> str:
    """``score`` in [-1, 1] as a text gauge, e.g. -0.5 is ``[     #####|          ]``."""
    filled = round(abs(score) * half)
    left = " " * (half - filled) + "#" * filled if score < 0 else " " * half
    right = "#" * filled + " " * (half - filled) if score > 0 else " " * half
    return f"[{left}|{right}]"


class DemoRecorder(Node):
    """Gets every frame from the video publisher (``add_frame``) and watches reactions, actions and verdicts
    over DDS: prints them and feeds the annotated video and the timeline."""

    def __init__(self, clock: ClipClock, writer: AnnotatedVideoWriter, windows: dict[str, float], options: DemoOptions,
                 fps: float, **kwargs) -> None:
        super().__init__("demo_recorder", **kwargs)
        self._fps = fps
        self.timeline = Timeline()
        self.frames = 0
        self.reaction_frames = 0
        self._clock, self._writer, self._windows, self._options = clock, writer, windows, options
        self._last_print = 0.0
        self._lock = threading.Lock()  # frames come from the video publisher's thread
        self.create_subscription(EmotionReactionArray, "/human/reactions", self._on_reactions, RELIABLE_100)
        self.create_subscription(RobotAction, "/robot/action", self._on_action, RELIABLE_100)
        self.create_subscription(ActionFeedback, "/human/action_feedback", self._on_verdict, RELIABLE_100)
        self.stats_client = self.create_client(GetActionStats, "/action_feedback_node/get_action_stats")

    def _say(self, text: str, colour: str = "") -> None:
        if self._options.colour and colour:
            text = f"\033[{colour}m{text}\033[0m"
        print(text, flush=True)

    def add_frame(self, header: Header, frame: VideoFrame) -> None:
        """The video publisher's hook: every frame, with its stamp, before it is published."""
        stamp_ns = stamp_to_ns(header.stamp)
        position = frame.position_s if frame.position_s is not None else frame.index / self._fps
        self._clock.record(stamp_ns, position)
        with self._lock:
            self.frames += 1
            self._writer.add_frame(position, frame.image)

    def _on_reactions(self, msg: EmotionReactionArray) -> None:
        time_s = self._clock.seconds(stamp_to_ns(msg.header.stamp))
        reactions = [reaction_from_msg(r) for r in msg.reactions]
        with self._lock:
            self.reaction_frames += 1
            self.timeline.points.extend(ValencePoint(time_s, r.face_id, r.valence_score, r.confidence)
                                        for r in reactions)
            self._writer.add_reactions(time_s, reactions)
        now = time.monotonic()
        if self._options.quiet or now - self._last_print < PRINT_PERIOD_S:
            return
        self._last_print = now
        if not reactions:
            self._say(f"{time_s:6.1f} s  (no face in view)")
        for r in reactions:
            self._say(f"{time_s:6.1f} s  {r.face_id:>8}  {r.valence.name.lower():<8} {r.confidence:4.2f}"
                      f"  valence {r.valence_score:+.2f} {_bar(r.valence_score)}")

    def _mark(self, action_id: str, name: str, stamp_ns: int) -> ActionMark:
        """The action and its windows in seconds into the video (the windows are in stamps, i.e. video time)."""
        w, at = self._windows, self._clock.seconds
        return ActionMark(action_id, name, at(stamp_ns), (at(stamp_ns - seconds_to_ns(w["baseline_window"])),
                          at(stamp_ns)), (at(stamp_ns + seconds_to_ns(w["response_delay"])),
                                          at(stamp_ns + seconds_to_ns(w["response_end"]))))

    def _on_action(self, msg: RobotAction) -> None:
        mark = self._mark(msg.action_id, msg.name, stamp_to_ns(msg.header.stamp))
        with self._lock:
            self.timeline.actions.append(mark)
            self._writer.add_action(mark)
        self._say(f"{mark.time_s:6.1f} s  >> robot action '{msg.name}': compare {mark.baseline[0]:.1f}-"
                  f"{mark.baseline[1]:.1f} s with {mark.response[0]:.1f}-{mark.response[1]:.1f} s", "1;36")

    def _on_verdict(self, msg: ActionFeedback) -> None:
        t = self._clock.seconds(stamp_to_ns(msg.header.stamp))
        verdict = Verdict(msg.verdict).name
        mark = VerdictMark(msg.action_id, msg.name, verdict, t, float(msg.baseline_valence),
                           float(msg.response_valence), float(msg.delta), float(msg.confidence))
        action = self._mark(msg.action_id, msg.name, stamp_to_ns(msg.action_stamp))  # now every frame is known
        with self._lock:
            self.timeline.actions = [a for a in self.timeline.actions if a.action_id != msg.action_id] + [action]
            self.timeline.verdicts.append(mark)
            self._writer.add_action(action)
            self._writer.add_verdict(mark)
        colour = {"WELL_RECEIVED": "1;32", "BADLY_RECEIVED": "1;31"}.get(verdict, "1;33")
        self._say(f"{t:6.1f} s  << '{msg.name}' {verdict}: valence {msg.baseline_valence:+.2f} -> "
                  f"{msg.response_valence:+.2f} (delta {msg.delta:+.2f}, confidence {msg.confidence:.2f},"
                  f" {msg.n_baseline} vs {msg.n_response} reactions)", colour)


def _video_actions(options: DemoOptions, source: Path, duration_s: float) -> list[tuple[float, str]]:
    """The scripted actions, in seconds into the video, that fit between ``start`` and ``end``."""
    if options.actions is not None:
        return sorted(options.actions)
    if source.resolve() == default_clip_path().resolve():
        end = options.end or duration_s
        return [(t, name) for t, name in CLIP_ACTIONS if options.start < t < end]
    length = (options.end or duration_s) - options.start
    return [(options.start + f * length, name) for f, name in VIDEO_ACTIONS]


def _parameters(node_name: str, **overrides: object) -> list[Parameter]:
    """The node's section of config/emotion_perception.yaml (as the launch file passes it), then ``overrides``."""
    values = load_node_parameters(package_file("config", "emotion_perception.yaml"), node_name)
    values.update(overrides)
    return [Parameter(name, value=value) for name, value in values.items()]


def run_demo(options: DemoOptions, context: Context | None = None) -> dict:
    """Play the video through the nodes, write the outputs and return the summary (also in summary.json)."""
    started = time.monotonic()
    source = Path(options.video) if options.video else default_clip_path()
    with VideoSource(source, options.start, options.end) as probe:
        fps = probe.fps or 30.0
        frames = probe.frame_count or 0
    duration_s = options.start + frames / fps
    actions = _video_actions(options, source, duration_s)
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    db = Path(options.db) if options.db else out / "action_stats.db"

    context = context or rclpy.get_default_context()
    clock = ClipClock()
    credit = CLIP_CREDIT if source.resolve() == default_clip_path().resolve() else ""
    writer = AnnotatedVideoWriter(out / "demo.mp4", fps, credit=credit, snapshot_path=out / "frame.png")
    feedback_yaml = load_node_parameters(package_file("config", "emotion_perception.yaml"), "action_feedback_node")
    windows = {n: float(feedback_yaml.get(n, getattr(FeedbackConfig(), n)))
               for n in ("baseline_window", "response_delay", "response_end")}
    sim_time = Parameter("use_sim_time", value=True)
    remap = ["--ros-args", "-r", f"image:={CAMERA_TOPIC}"]
    executor = SingleThreadedExecutor(context=context)
    nodes: list[Node] = []
    stats: list[dict] = []
    interrupted = False
    spinner: SpinThread | None = None
    # The demo prints its own lines.
    for name in ("video_publisher", "perception_node", "action_feedback_node", "dashboard"):
        rclpy.logging.set_logger_level(name, rclpy.logging.LoggingSeverity.WARN)
    try:
        nodes.append(SessionRecorder(out / "session.mcap", session_topics(), context=context,
                                     parameter_overrides=[sim_time]))
        recorder = DemoRecorder(clock, writer, windows, options, fps, context=context, parameter_overrides=[sim_time])
        nodes.append(recorder)
        robot = ScriptedRobot(actions, clock, context=context, parameter_overrides=[sim_time])
        nodes.append(robot)
        nodes.append(ActionFeedbackNode(context=context, parameter_overrides=_parameters(
            "action_feedback_node", stats_db_path=str(db), use_sim_time=True)))
        perception = PerceptionNode(context=context, cli_args=remap, parameter_overrides=_parameters(
            "perception_node", model_path=options.model, use_sim_time=True))
        nodes.append(perception)
        video = VideoPublisher(context=context, cli_args=remap, on_frame=recorder.add_frame,
                               parameter_overrides=_parameters(
                                   "video_publisher", source=str(source), rate=fps * options.rate, loop=False,
                                   max_frames=0, start_time=float(options.start), end_time=float(options.end or 0.0),
                                   publish_clock=True))
        nodes.append(video)
        if options.dashboard_port is not None:
            try:
                dashboard = DashboardNode(context=context, parameter_overrides=_parameters(
                    "dashboard", port=options.dashboard_port, use_sim_time=True))
                nodes.append(dashboard)
                print(f"demo: live dashboard on {dashboard.url}", flush=True)
            except DashboardServerError as err:
                print(f"demo: no live dashboard ({err}); try --dashboard-port 0 or --no-dashboard", flush=True)
        for node in nodes:
            executor.add_node(node)
        print(f"demo: {source.name}, {duration_s - options.start:.1f} s at {options.rate:g}x, actions at "
              + ", ".join(f"{t:.1f} s ({name})" for t, name in actions) + f"; writing to {out}/", flush=True)
        spinner = SpinThread(executor)
        try:
            while not video.finished.wait(timeout=0.2):
                if not context.ok():
                    raise ExternalShutdownException
                if not spinner.is_alive():
                    raise RuntimeError("the executor stopped before the video ended (see the error above)")
            wait_for(lambda: len(recorder.timeline.verdicts) >= len(actions) - robot.remaining,
                     windows["response_end"] / options.rate + 1.0 + options.extra_wait, period=0.05)
            # The last frames' reactions may still be in flight: let them reach the video and the session file
            # (perception publishes each frame's per-face reactions before its array, which this counts).
            wait_until_steady(lambda: recorder.reaction_frames, quiet=1.0, timeout=10.0)
            stats = _persistent_stats(recorder)
        except (KeyboardInterrupt, ExternalShutdownException):
            interrupted = True
            print("\ndemo: interrupted; writing what was recorded so far", flush=True)
    finally:
        if spinner is not None:
            spinner.stop()
        for node in nodes:
            node.destroy_node()
        snapshot = writer.close()
    plot = plot_timeline(recorder.timeline, out / "timeline.png", span_s=(options.start, duration_s),
                         title=f"{source.name}: valence over time, robot actions and verdicts")
    summary = {
        "video": str(source),
        "start_s": options.start,
        "end_s": duration_s,
        "rate": options.rate,
        "frames_published": video.published,
        "frames_recorded": recorder.frames,
        "frames_with_reactions": recorder.reaction_frames,
        "reactions": len(recorder.timeline.points),
        "faces": sorted({p.face_id for p in recorder.timeline.points}),
        "perception_drops": perception.drops,
        "actions": [
            {**asdict(a), "verdict": asdict(v) if (v := recorder.timeline.verdict_for(a.action_id)) else None}
            for a in recorder.timeline.actions
        ],
        "stats_db": str(db),
        "persistent_stats": stats,
        "outputs": {"video": str(writer.path), "video_frames": writer.frames_written, "timeline": str(plot),
                    "frame": str(snapshot) if snapshot else None, "session": str(out / "session.mcap")},
        "wall_s": round(time.monotonic() - started, 2),
        "interrupted": interrupted,
    }
    (out / "summary.json").write_text(json.dumps(finite_or_none(summary), indent=2) + "\n")
    _print_summary(summary)
    return summary


def _persistent_stats(recorder: DemoRecorder) -> list[dict]:
    """The feedback node's per-action statistics over every run recorded in its database."""
    if not recorder.stats_client.wait_for_service(timeout_sec=2.0):
        return []
    future = recorder.stats_client.call_async(GetActionStats.Request(name=""))
    done = threading.Event()
    future.add_done_callback(lambda _: done.set())
    if not done.wait(timeout=5.0) or future.result() is None or not future.result().success:
        return []
    return [{"name": s.name, "count": s.count, "well_received": s.well_received, "neutral": s.neutral,
             "badly_received": s.badly_received, "unknown": s.unknown,
             "mean_delta": None if math.isnan(s.mean_delta) else round(s.mean_delta, 3)}
            for s in future.result().stats]


def _print_summary(summary: dict) -> None:
    print(f"\ndemo done in {summary['wall_s']:.1f} s: {summary['frames_published']} frames,"
          f" {summary['reactions']} face reactions on {summary['frames_with_reactions']} processed frames")
    for action in summary["actions"]:
        verdict = action["verdict"]
        text = "no verdict" if verdict is None else f"{verdict['verdict']} (delta {verdict['delta']:+.2f})"
        print(f"  {action['time_s']:5.1f} s  {action['name']:<14} {text}")
    for stat in summary["persistent_stats"]:
        print(f"  over all runs in {summary['stats_db']}: {stat['name']} x{stat['count']}:"
              f" {stat['well_received']} well, {stat['neutral']} neutral, {stat['badly_received']} badly received")
    outputs = summary["outputs"]
    print(f"  wrote {outputs['video']} ({outputs['video_frames']} frames), {outputs['timeline']}, {outputs['frame']},"
          f" {outputs['session']}", flush=True)


def _action_spec(text: str) -> list[tuple[float, str]]:
    try:
        return [(float(t), name) for t, name in (item.split(":", 1) for item in text.split(",") if item)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected SECONDS:NAME[,SECONDS:NAME...], got {text!r}") from None


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="demo", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", type=Path, default=None,
                        help="video file or image folder to play (default: the packaged real-face clip)")
    parser.add_argument("--out", type=Path, default=Path("out/demo"), help="output folder (default: out/demo)")
    parser.add_argument("--rate", type=float, default=1.0,
                        help="playback speed, 1 = real time (the nodes run on the video's /clock)")
    parser.add_argument("--start", type=float, default=0.0, help="start this many seconds into the video")
    parser.add_argument("--end", type=float, default=None, help="stop this many seconds into the video")
    parser.add_argument("--actions", type=_action_spec, default=None, metavar="S:NAME,...",
                        help="robot actions as seconds-into-the-video:name (default: scripted for the clip,"
                        " else at 25%%, 55%% and 85%% of the video)")
    parser.add_argument("--db", type=Path, default=None, help="sqlite stats file (default: OUT/action_stats.db)")
    parser.add_argument("--model", default="", help="valence model file (default: the shipped model)")
    parser.add_argument("--quiet", action="store_true", help="print actions, verdicts and the summary only")
    parser.add_argument("--dashboard-port", type=int, default=8080,
                        help="port of the live dashboard on 127.0.0.1 (default 8080; 0 = any free port)")
    parser.add_argument("--no-dashboard", dest="dashboard_port", action="store_const", const=None,
                        help="do not start the live dashboard")
    return parser


def main(args: list[str] | None = None) -> int:
    """Entry point of ``make demo`` / ``ros2 run emotion_perception demo``."""
    argv = remove_ros_args(args if args is not None else sys.argv)[1:]
    parsed = get_args_parser().parse_args(argv)
    if parsed.rate <= 0:
        print("demo: --rate must be > 0", file=sys.stderr)
        return 2
    # Camera-sized frames need the large shared-memory segment (see config/fastdds_shm.xml).
    profile = package_file("config", "fastdds_shm.xml")
    if profile.is_file():
        use_profile(profile)
    options = DemoOptions(**vars(parsed))
    rclpy.init(args=args)
    try:
        summary = run_demo(options)
    except (KeyboardInterrupt, ExternalShutdownException):
        return 130
    except (VideoSourceError, ModelLoadError, DetectorLoadError, ValueError, OSError, RuntimeError) as err:
        print(f"demo: {err}", file=sys.stderr)
        return 1
    finally:
        rclpy.try_shutdown()
    return 130 if summary["interrupted"] else 0


if __name__ == "__main__":
    sys.exit(main())
