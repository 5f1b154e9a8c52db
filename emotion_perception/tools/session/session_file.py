# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Session files: rosbag2's MCAP profile (CDR messages, ``ros2msg`` schemas embedded), written and read (no DDS).

Written with the ``mcap`` library the way ``ros2 bag record -s mcap`` writes: header profile ``ros2``,
one schema per message type holding its full ``.msg`` text and dependencies, one channel per topic
(``message_encoding`` ``cdr``) whose metadata carries ``offered_qos_profiles`` and ``topic_type_hash``,
zstd-compressed chunks with indexes and a summary: the layout ``ros2 bag`` and Foxglove read. No ``rosbag2``
metadata record is written: rosbag2 reads one without ``serialized_metadata`` as version 8, whose QoS
profiles hold numbers, and would then fail on the names of the current format.

Read sequentially, so a file whose recorder was killed (no summary, a last chunk half written) is read up
to its last complete chunk. Messages are decoded from the embedded schemas (``mcap-ros2-support``): reading
needs neither DDS nor the message packages.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcap.exceptions import EndOfFile, InvalidMagic, McapError
from mcap.reader import SeekingReader
from mcap.records import Channel, Message, Schema
from mcap.stream_reader import StreamReader
from mcap.well_known import MessageEncoding, SchemaEncoding
from mcap.writer import CompressionType, Writer
from mcap_ros2.decoder import DecoderFactory

from emotion_perception.tools.session.message_definitions import message_definition

PROFILE = "ros2"
LIBRARY = "emotion_perception session recorder (mcap)"
#: rosbag2's channel metadata keys: the recorded publishers' QoS (a YAML list; empty: players use their
#: default QoS) and their type's hash (``RIHS01_...``; empty when unknown).
QOS_KEY = "offered_qos_profiles"
TYPE_HASH_KEY = "topic_type_hash"


class SessionFileError(ValueError):
    """The file cannot be used as a session: one line that says why."""


@dataclass(frozen=True)
class RecordedMessage:
    """One message as recorded: CDR bytes, and the recorder's clock (ns) when it arrived."""

    topic: str
    type_name: str
    log_time_ns: int
    data: bytes


class SessionWriter:
    """Writes a session file; ``flush()`` closes the current chunk so that a kill loses nothing before it."""

    def __init__(self, path: str | Path, chunk_size: int = 4 * 1024 * 1024) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._stream = self.path.open("wb")
        self._writer = Writer(self._stream, chunk_size=chunk_size, compression=CompressionType.ZSTD)
        self._writer.start(profile=PROFILE, library=LIBRARY)
        self._schemas: dict[str, int] = {}
        self._channels: dict[str, int] = {}
        self._sequence: dict[str, int] = {}
        self.message_count = 0

    @property
    def topics(self) -> list[str]:
        """The topics added so far."""
        return list(self._channels)

    def add_topic(self, topic: str, type_name: str, offered_qos: str = "", type_hash: str = "") -> None:
        """Declare ``topic`` (resolved name) of ``type_name`` (``pkg/msg/Name``); embeds the type's schema once.
        ``offered_qos`` and ``type_hash`` are the channel's rosbag2 metadata."""
        if topic in self._channels:
            return
        if type_name not in self._schemas:
            definition = message_definition(type_name).encode()
            self._schemas[type_name] = self._writer.register_schema(type_name, SchemaEncoding.ROS2, definition)
        metadata = {QOS_KEY: offered_qos, TYPE_HASH_KEY: type_hash}
        self._channels[topic] = self._writer.register_channel(topic, MessageEncoding.CDR, self._schemas[type_name],
                                                              metadata=metadata)
        self._sequence[topic] = 0

    def write(self, topic: str, data: bytes, log_time_ns: int) -> None:
        """Append one CDR-serialised message of a topic already added."""
        self._sequence[topic] += 1
        self._writer.add_message(self._channels[topic], log_time_ns, bytes(data), log_time_ns,
                                 self._sequence[topic])
        self.message_count += 1

    def flush(self) -> None:
        """Write the chunk in progress to the file (readable even if the process is killed afterwards)."""
        self._writer.flush()

    def close(self) -> None:
        """Write the summary and indexes and close the file."""
        if self._stream.closed:
            return
        self._writer.finish()
        self._stream.close()


class SessionReader:
    """Reads a session file in order.

    After a full read, ``complete`` is False for a file that was cut short (read up to its last complete
    chunk), and ``topics`` maps each topic met to its type.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.complete = True
        self.topics: dict[str, str] = {}
        if not self.path.is_file():
            raise SessionFileError(f"{self.path}: no such file")
        self._decoders: dict[int, Callable[[bytes], Any]] = {}
        self._factory = DecoderFactory()

    def recorded_topics(self) -> dict[str, str]:
        """Topic -> type of every channel: from the summary of a closed file, else by reading it through."""
        try:
            with self.path.open("rb") as stream:
                summary = SeekingReader(stream).get_summary()
        except (McapError, struct.error, ValueError, OSError):
            summary = None
        if summary is None:
            for _ in self.messages(topics=()):
                pass
            return dict(self.topics)
        return {c.topic: summary.schemas[c.schema_id].name if c.schema_id in summary.schemas else ""
                for c in summary.channels.values()}

    def _records(self) -> Iterator[Schema | Channel | Message]:
        with self.path.open("rb") as stream:
            reader = StreamReader(stream, validate_crcs=True)
            try:
                for record in reader.records:
                    if isinstance(record, Schema | Channel | Message):
                        yield record
            except InvalidMagic as exc:
                raise SessionFileError(f"{self.path}: not an MCAP file ({exc})") from exc
            except (EndOfFile, struct.error) as exc:  # a record cut short: the end of a killed recording
                if stream.tell() <= 8:
                    raise SessionFileError(f"{self.path}: empty or not an MCAP file") from exc
                self.complete = False
            except (McapError, zlib.error, ValueError) as exc:
                raise SessionFileError(f"{self.path}: corrupt MCAP data ({exc})") from exc

    def messages(self, topics: Iterable[str] | None = None) -> Iterator[tuple[RecordedMessage, Schema]]:
        """Every message (of ``topics``, if given) in file order, with its schema."""
        wanted = set(topics) if topics is not None else None
        schemas: dict[int, Schema] = {}
        channels: dict[int, Channel] = {}
        for record in self._records():
            if isinstance(record, Schema):
                schemas[record.id] = record
            elif isinstance(record, Channel):
                channels[record.id] = record
                schema = schemas.get(record.schema_id)
                self.topics[record.topic] = schema.name if schema else ""
            else:
                channel = channels.get(record.channel_id)
                if channel is None:
                    raise SessionFileError(f"{self.path}: message on channel {record.channel_id}, never declared")
                if wanted is not None and channel.topic not in wanted:
                    continue
                schema = schemas.get(channel.schema_id)
                if schema is None or schema.encoding != SchemaEncoding.ROS2 or channel.message_encoding != "cdr":
                    kind = f"{schema.encoding!r} schema" if schema else "no schema"
                    raise SessionFileError(
                        f"{self.path}: topic {channel.topic} has {kind} and {channel.message_encoding!r} messages; "
                        "a ROS 2 session needs ros2msg schemas and cdr messages"
                    )
                yield RecordedMessage(channel.topic, schema.name, record.log_time, record.data), schema

    def decode(self, message: RecordedMessage, schema: Schema) -> Any:
        """The message as an object with the type's fields (decoded from the embedded schema)."""
        decoder = self._decoders.get(schema.id)
        if decoder is None:
            try:
                decoder = self._factory.decoder_for(MessageEncoding.CDR, schema)
            except (McapError, ValueError, KeyError) as exc:
                raise SessionFileError(f"{self.path}: unreadable schema {schema.name!r} ({exc})") from exc
            self._decoders[schema.id] = decoder
        try:
            return decoder(message.data)
        except (McapError, ValueError, KeyError, IndexError, EOFError) as exc:
            raise SessionFileError(
                f"{self.path}: a {schema.name} message on {message.topic} does not match its schema ({exc})"
            ) from exc
