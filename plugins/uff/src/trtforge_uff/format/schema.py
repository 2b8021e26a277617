"""The UFF protobuf classes, compiled at import time from our own ``uff.proto``.

No ``protoc`` is needed: :func:`parse_proto` reads the small proto3 subset ``uff.proto`` uses
(enums; messages with scalar, repeated, map and oneof fields) into a ``FileDescriptorProto``,
and ``message_factory`` makes the classes. The ``.proto`` file stays the one source of truth.
"""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

PACKAGE = "uff"
PROTO_NAME = "trtforge_uff/uff.proto"

# Values of the format (see uff.proto).
META_VERSION = 1
DESCRIPTOR_CORE_VERSION = 1  # both versions are 1 in every UFF file
CORE_DESCRIPTORS = (("tensorflow_extension", 1, False), ("custom", 1, True))  # id, version, optional
INCREMENT = 0x7FFFFFFF
DECREMENT = -(2 ** 31)
SPECIAL = -1
DTYPES = {
    "int8": 0x10008, "int16": 0x10010, "int32": 0x10020, "int64": 0x10040,
    "float16": 0x20010, "float32": 0x20020,
}
DTYPE_NAMES = {code: name for name, code in DTYPES.items()}

_F = descriptor_pb2.FieldDescriptorProto
_SCALARS = {
    "string": _F.TYPE_STRING, "bytes": _F.TYPE_BYTES, "double": _F.TYPE_DOUBLE,
    "float": _F.TYPE_FLOAT, "bool": _F.TYPE_BOOL, "int64": _F.TYPE_INT64, "int32": _F.TYPE_INT32,
    "uint64": _F.TYPE_UINT64, "uint32": _F.TYPE_UINT32,
}
_TOKEN = re.compile(r"map\s*<\s*\w+\s*,\s*\w+\s*>|[A-Za-z_][\w.]*|-?\d+|[{};=]")


def _tokens(text: str) -> list[str]:
    text = re.sub(r"//[^\n]*", "", text)
    return _TOKEN.findall(text)


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0
        self.enums: set[str] = set()

    def take(self, expected: str | None = None) -> str:
        token = self.tokens[self.pos]
        if expected is not None and token != expected:
            raise ValueError(f"uff.proto: expected {expected!r}, got {token!r} (token {self.pos})")
        self.pos += 1
        return token

    def peek(self) -> str:
        return self.tokens[self.pos]

    def file(self) -> descriptor_pb2.FileDescriptorProto:
        proto = descriptor_pb2.FileDescriptorProto(name=PROTO_NAME, syntax="proto3")
        # Enum names first: a field's type can name an enum defined later in the file.
        self.enums = {self.tokens[i + 1] for i, t in enumerate(self.tokens[:-1]) if t == "enum"}
        while self.pos < len(self.tokens):
            word = self.take()
            if word == "syntax":
                self.take("=")
                self.take()  # "proto3" (quotes dropped by the tokenizer)
                self.take(";")
            elif word == "package":
                proto.package = self.take()
                self.take(";")
            elif word == "enum":
                proto.enum_type.append(self.enum())
            elif word == "message":
                proto.message_type.append(self.message())
            else:
                raise ValueError(f"uff.proto: unexpected {word!r}")
        return proto

    def enum(self) -> descriptor_pb2.EnumDescriptorProto:
        enum = descriptor_pb2.EnumDescriptorProto(name=self.take())
        self.take("{")
        while self.peek() != "}":
            name = self.take()
            self.take("=")
            enum.value.add(name=name, number=int(self.take()))
            self.take(";")
        self.take("}")
        return enum

    def message(self) -> descriptor_pb2.DescriptorProto:
        message = descriptor_pb2.DescriptorProto(name=self.take())
        self.take("{")
        while self.peek() != "}":
            if self.peek() == "oneof":
                self.take()
                index = len(message.oneof_decl)
                message.oneof_decl.add(name=self.take())
                self.take("{")
                while self.peek() != "}":
                    self.field(message, oneof=index)
                self.take("}")
            else:
                self.field(message)
        self.take("}")
        return message

    def field(self, message: descriptor_pb2.DescriptorProto, oneof: int | None = None) -> None:
        first = self.take()
        label = _F.LABEL_OPTIONAL
        if first == "repeated":
            label, first = _F.LABEL_REPEATED, self.take()
        name = self.take()
        self.take("=")
        number = int(self.take())
        self.take(";")
        field = message.field.add(name=name, number=number, label=label)
        if first.startswith("map"):
            key, value = re.match(r"map\s*<\s*(\w+)\s*,\s*(\w+)\s*>", first).groups()
            entry = message.nested_type.add(name="".join(p.title() for p in name.split("_")) + "Entry")
            entry.options.map_entry = True
            self._type(entry.field.add(name="key", number=1, label=_F.LABEL_OPTIONAL), key)
            self._type(entry.field.add(name="value", number=2, label=_F.LABEL_OPTIONAL), value)
            field.label = _F.LABEL_REPEATED
            field.type = _F.TYPE_MESSAGE
            field.type_name = f".{PACKAGE}.{message.name}.{entry.name}"
            return
        self._type(field, first)
        if oneof is not None:
            field.oneof_index = oneof

    def _type(self, field: Any, type_name: str) -> None:
        if type_name in _SCALARS:
            field.type = _SCALARS[type_name]
        elif type_name in self.enums:
            field.type = _F.TYPE_ENUM
            field.type_name = f".{PACKAGE}.{type_name}"
        else:
            field.type = _F.TYPE_MESSAGE
            field.type_name = f".{PACKAGE}.{type_name}"


def proto_text() -> str:
    return resources.files("trtforge_uff.format").joinpath("uff.proto").read_text()


def parse_proto(text: str) -> descriptor_pb2.FileDescriptorProto:
    """``uff.proto`` as a FileDescriptorProto (the subset of proto3 the file uses)."""
    return _Parser(text).file()


@lru_cache(maxsize=1)
def _classes() -> dict[str, Any]:
    pool = descriptor_pool.DescriptorPool()
    file_descriptor = pool.Add(parse_proto(proto_text()))
    found = pool.FindFileByName(file_descriptor.name)
    return {name: message_factory.GetMessageClass(d) for name, d in found.message_types_by_name.items()}


def message_class(name: str) -> Any:
    """The generated class of message ``name`` (``MetaGraph``, ``Node``, ``Data``, ...)."""
    return _classes()[name]


def __getattr__(name: str) -> Any:  # schema.MetaGraph, schema.Data, ...
    classes = _classes()
    if name in classes:
        return classes[name]
    raise AttributeError(name)
