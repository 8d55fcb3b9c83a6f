# cython: language_level=3, embedsignature=True, auto_pickle=False
"""fastprod._core: the compiled record path of fastprod (see fastprod.Producer for the API)."""

cimport cython
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE, PyBytes_FromStringAndSize
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_SIMPLE
from cpython.exc cimport PyErr_CheckSignals
from cpython.ref cimport Py_INCREF, Py_DECREF, PyObject
from cpython.tuple cimport PyTuple_SET_ITEM
from cpython.object cimport PyTypeObject
from cpython.unicode cimport PyUnicode_AsUTF8AndSize
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t, INT32_MAX, INT64_MAX, INT64_MIN
from libc.stdlib cimport free, malloc
from libc.string cimport memchr, memcpy
from cpython.pycapsule cimport PyCapsule_GetPointer
from cpython.sequence cimport PySequence_Fast, PySequence_Fast_GET_ITEM, PySequence_Fast_GET_SIZE

from cengine cimport *  # the C engine's declarations
from ctable cimport *  # the table encoder's

import json
import logging
import os
import re
import sys
import threading
import types
import warnings

from fastprod import errors as _errors
from fastprod.records import (ProducerRecord as _ProducerRecord, RecordMetadata as _RecordMetadata,
                              ThrottleEvent as _ThrottleEvent, TimestampType as _TimestampType,
                              check_topic_name as _check_topic_name)

_log = logging.getLogger("fastprod")
_librdkafka_logger = logging.getLogger("fastprod.librdkafka")

cdef enum:
    # Waits without the GIL are cut into slices of this length, so Ctrl-C is seen between them.
    WAIT_SLICE_MS = 100

# Bytes charged against buffer.memory per record besides its key, value and headers.
RECORD_OVERHEAD = FP_RECORD_OVERHEAD

# fp_partitioner value for the partitioners librdkafka runs itself (fastprod.config's names).
PARTITIONER_LIBRDKAFKA = FP_PARTITIONER_LIBRDKAFKA


def _native_partitioners():
    """{name: fp_partitioner value} of the partitioners send() runs in C, aliases included."""
    cdef const fp_partitioner_name *row = fp_partitioner_names
    names = {}
    while row.name != NULL:
        names[row.name.decode()] = <int>row.how
        row += 1
    return names

cdef int64_t FOREVER_MS = 10 * 365 * 86400 * <int64_t>1000


def _librdkafka_path():
    """The shared object whose dependency tree holds librdkafka: confluent_kafka's extension."""
    explicit = os.environ.get("FASTPROD_LIBRDKAFKA")
    if explicit:
        return explicit
    import importlib.util
    spec = importlib.util.find_spec("confluent_kafka")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("fastprod needs confluent-kafka (it uses the librdkafka inside its wheel): "
                          "pip install 'confluent-kafka>=2.3'")
    import glob
    for folder in spec.submodule_search_locations:
        found = sorted(glob.glob(os.path.join(folder, "cimpl*")))
        found = [f for f in found if f.endswith((".so", ".pyd", ".dylib"))]
        if found:
            return found[0]
    raise ImportError("confluent_kafka is installed but its cimpl extension was not found "
                      f"in {list(spec.submodule_search_locations)}")


cdef void _load_librdkafka() except *:
    cdef char errbuf[512]
    path = os.fsencode(_librdkafka_path())
    if rdk_load(path, errbuf, sizeof(errbuf)) != 0:
        raise ImportError(errbuf.decode("utf-8", "replace"))


_load_librdkafka()


def _load_xxh3():
    """Resolves xxh3 from the xxhash package (partitioner="xxhash"), once."""
    cdef char errbuf[512]
    if fp_xxh3_64 != NULL:
        return
    try:
        import xxhash._xxhash as module
    except ImportError as exc:
        raise _errors.ConfigError('partitioner="xxhash" needs the xxhash package: '
                                  f"pip install xxhash ({exc})") from None
    if fp_xxh3_load(os.fsencode(module.__file__), errbuf, sizeof(errbuf)) != 0:
        raise _errors.ConfigError(errbuf.decode("utf-8", "replace"))


def murmur2(data):
    """Kafka's murmur2 hash of bytes, as the Java client computes it (a signed 32-bit int)."""
    cdef const unsigned char[::1] view = data
    return fp_murmur2(&view[0] if view.shape[0] else NULL, view.shape[0])


def xxh3_64(data):
    """xxh3-64 of bytes, as partitioner="xxhash" uses it (needs the xxhash package)."""
    cdef const unsigned char[::1] view = data
    _load_xxh3()
    return fp_xxh3_64(&view[0] if view.shape[0] else NULL, view.shape[0])


def librdkafka_version():
    """(version string, version int) of the librdkafka fastprod runs on."""
    return rdk.rd_kafka_version_str().decode(), rdk.rd_kafka_version()


def _error_descriptions():
    """librdkafka's error table as (code, name, description) tuples; used to generate errors."""
    cdef const rd_kafka_err_desc *descs
    cdef size_t n, i
    rdk.rd_kafka_get_err_descs(&descs, &n)
    out = []
    for i in range(n):
        if descs[i].name != NULL:
            out.append((descs[i].code, descs[i].name.decode(),
                        descs[i].desc.decode() if descs[i].desc != NULL else ""))
    return out


cdef object _kafka_error(int code, int status=-1):
    """The exception for a librdkafka error code; status (RDK_MSG_STATUS_*) for a record's failure."""
    return _errors.KafkaError.from_code(code, rdk.rd_kafka_err2str(code).decode("utf-8", "replace"),
                                        persistence=None if status < 0 else status)


include "waits.pxi"
include "record_views.pxi"
include "encodings.pxi"
include "futures.pxi"
include "batches.pxi"
include "events.pxi"
include "dispatch.pxi"
include "record_checks.pxi"
include "routing.pxi"
include "send.pxi"
include "producer_core.pxi"
include "send_batch.pxi"
include "send_table.pxi"


cdef extern from "Python.h":
    void PyType_Modified(PyTypeObject *type)


cdef _hide_vtables(tuple classes):
    """Removes Cython's __pyx_vtable__ capsule from the public classes' dicts, where help()
    shows it. Cython reads it only to cimport a class from another module; this module's code
    reaches its vtables through C pointers, and there is no other module."""
    for cls in classes:
        (<dict><object>(<PyTypeObject *>cls).tp_dict).pop("__pyx_vtable__", None)
        PyType_Modified(<PyTypeObject *>cls)


_hide_vtables((ProducerCore, DeliveryFuture, BatchResult))
