# The key and value encodings of the compiled send path. Included into _core.pyx.
#
# One per producer for keys and one for values, chosen once from the configured serializer, so
# send() pays a C switch instead of Python dispatch: built-in msgspec serializers encode into a
# bytearray reused for every record (no bytes object per record; the ring copies it at once).
#
# The reused bytearray is lent to one send() at a time: encode() takes it out of the _Encoding and
# give_back() returns it once the record's bytes are in the ring. Between the two, that send() may
# run Python code or wait without the GIL, and another thread's send() (or a serializer that sends)
# would otherwise encode into the same bytes: records went out carrying another record's value,
# or failed to resize a buffer still exported. A send() that finds the buffer lent out encodes
# into a fresh one.

from fastprod import serializers as _serializers

cdef enum:
    ENC_AS_IS = 0    # bytes, str (UTF-8), bytearray, memoryview, as _view takes them
    ENC_CHECKED = 1  # as is, after a type check (StrSerializer, BytesSerializer)
    ENC_INTO = 2     # serializer.encode_into(obj, reused bytearray)
    ENC_OBJECT = 3   # serializer.serialize(topic, headers, obj)
    ENC_CALL = 4     # serializer(obj), or serializer.encode(obj)


@cython.final
cdef class _Encoding:

    @staticmethod
    cdef _Encoding of(object serializer, str what):
        cdef _Encoding enc = _Encoding.__new__(_Encoding)
        enc.what = what
        enc.kind = ENC_AS_IS
        if serializer is None:
            return enc
        enc.accepts = getattr(serializer, "accepts", None)
        if type(serializer) in (_serializers.StrSerializer, _serializers.BytesSerializer):
            enc.kind = ENC_CHECKED
        elif getattr(serializer, "encode_into", None) is not None:
            enc.kind = ENC_INTO
            enc.fn = serializer.encode_into
            enc.buffer = bytearray()
        elif getattr(serializer, "encode", None) is not None:
            enc.kind = ENC_CALL
            enc.fn = serializer.encode
        elif callable(getattr(serializer, "serialize", None)):
            enc.kind = ENC_OBJECT
            enc.fn = serializer.serialize
        else:
            enc.kind = ENC_CALL
            enc.fn = serializer
        return enc

    cdef inline bint wants_headers(self):
        return self.kind == ENC_OBJECT

    cdef object encode(self, str topic, object obj, list headers):
        """obj as something _view takes; None stays None (a null is never serialized)."""
        if obj is None or self.kind == ENC_AS_IS:
            return obj
        if self.accepts is not None and not isinstance(obj, self.accepts):
            raise _errors.SerializationError(
                f"cannot serialize the {self.what} of a record to {topic!r}: "
                f"{type(obj).__name__} is not {_type_names(self.accepts)}")
        if self.kind == ENC_CHECKED:
            return obj
        cdef object buffer = None
        try:
            if self.kind == ENC_INTO:
                buffer = self.buffer
                if buffer is None:  # lent to another send()
                    buffer = bytearray()
                else:
                    self.buffer = None
                self.fn(obj, buffer)
                return buffer
            if self.kind == ENC_OBJECT:
                return self.fn(topic, headers, obj)
            return self.fn(obj)
        except BaseException as exc:
            self.give_back(buffer)
            if not isinstance(exc, Exception):
                raise  # KeyboardInterrupt and the like go through as they are
            raise _errors.SerializationError(
                f"cannot serialize the {self.what} of a record to {topic!r} "
                f"({type(obj).__name__}): {exc}") from exc

    cdef inline void give_back(self, object encoded) noexcept:
        """encoded (what encode() returned) is no longer used: a lent buffer goes back."""
        if self.kind == ENC_INTO and self.buffer is None and type(encoded) is bytearray:
            self.buffer = encoded


cdef str _type_names(object accepts):
    if isinstance(accepts, tuple):
        return " or ".join([t.__name__ for t in accepts])
    return accepts.__name__
