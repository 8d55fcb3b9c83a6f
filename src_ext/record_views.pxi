# Keys, values and headers as librdkafka takes them: pointers into Python objects' bytes, and
# header lists. Included into _core.pyx.

from cpython.exc cimport PyErr_Clear

cdef extern from "Python.h":
    # PyUnicode_AsUTF8AndSize, returning NULL without Cython raising: _view names the failure.
    const char *_utf8_or_null "PyUnicode_AsUTF8AndSize" (object text, Py_ssize_t *size)


cdef inline int _view(object obj, Py_buffer *view, const char **data, Py_ssize_t *size,
                      str what, str topic) except -1:
    """Points data/size at obj's bytes; size -1 for None. view is filled only for buffer objects."""
    if obj is None:
        data[0] = NULL
        size[0] = -1
    elif type(obj) is bytes:
        data[0] = PyBytes_AS_STRING(obj)
        size[0] = PyBytes_GET_SIZE(obj)
    elif isinstance(obj, str):
        data[0] = _utf8_or_null(obj, size)
        if data[0] == NULL:
            _utf8_failed(obj, what, topic)
    elif isinstance(obj, (bytes, bytearray, memoryview)):
        if type(obj) is memoryview:
            _memoryview_buffer(obj, view, what, topic)
        else:  # bytes and bytearray are always one block
            PyObject_GetBuffer(obj, view, PyBUF_SIMPLE)
        data[0] = <const char *>view.buf
        size[0] = view.len
        return 1
    else:
        raise _errors.SerializationError(
            f"the {what} of a record to {topic!r} must be bytes, str or None (or a serializer "
            f"must make it so), not {type(obj).__name__}")
    return 0


cdef int _utf8_failed(object text, str what, str topic) except -1:
    PyErr_Clear()
    try:
        str.encode(text, "utf-8")  # str's own: a subclass's encode() may say anything
    except UnicodeEncodeError as exc:  # lone surrogates
        raise _errors.SerializationError(
            f"the {what} of a record to {topic!r} is a str that UTF-8 cannot encode: {exc}") from exc
    raise MemoryError()


cdef int _memoryview_buffer(object obj, Py_buffer *view, str what, str topic) except -1:
    try:
        PyObject_GetBuffer(obj, view, PyBUF_SIMPLE)
    except (BufferError, ValueError) as exc:  # not contiguous, or released
        raise _errors.SerializationError(
            f"the {what} of a record to {topic!r} is a memoryview whose bytes are not one "
            f"contiguous block: {exc}") from None
    return 0


cdef enum:
    HEADERS_SIZE_HINT = 8


cdef rd_kafka_headers_t *_build_headers(object headers, str topic) except NULL:
    """Headers from a list of (str, bytes|str|None) pairs or a dict of them."""
    cdef rd_kafka_headers_t *hdrs
    cdef Py_buffer view
    cdef const char *data
    cdef const char *name_data
    cdef Py_ssize_t size, name_size
    cdef int held
    if isinstance(headers, dict):
        items = list((<dict>headers).items())
    elif isinstance(headers, (list, tuple)):
        items = headers
    else:
        raise TypeError(f"headers must be a list of (str, bytes) pairs or a dict, "
                        f"not {type(headers).__name__}")
    # A size hint only (the list grows): a list subclass's __len__ may claim billions.
    hdrs = rdk.rd_kafka_headers_new(HEADERS_SIZE_HINT)
    try:
        for item in items:
            if not isinstance(item, tuple) or len(<tuple>item) != 2:
                raise TypeError(f"each header must be a (str, bytes) pair, not {item!r}")
            name, value = item
            if type(name) is not str:
                raise TypeError(f"header name must be str, not {type(name).__name__}")
            name_data = PyUnicode_AsUTF8AndSize(name, &name_size)
            if name_size == 0 or memchr(name_data, 0, name_size) != NULL:
                raise ValueError(f"header name must be non-empty and free of NUL, not {name!r}")
            try:
                held = _view(value, &view, &data, &size, "header", topic)
            except _errors.SerializationError:  # name it here: no f-string on the hot path
                if isinstance(value, (str, bytes, bytearray, memoryview)):
                    raise  # the right type, but its bytes cannot be read
                raise _errors.SerializationError(
                    f"header {name!r} of a record to {topic!r} must be bytes, str or None, "
                    f"not {type(value).__name__}") from None
            try:
                rdk.rd_kafka_header_add(hdrs, name_data, name_size, data, size)
            finally:
                if held:
                    PyBuffer_Release(&view)
    except BaseException:
        rdk.rd_kafka_headers_destroy(hdrs)
        raise
    return hdrs
