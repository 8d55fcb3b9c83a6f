# What librdkafka tells the application besides delivery reports (issue 15): log lines, errors
# about the client as a whole, throttled requests, statistics. The engine keeps them
# (fp_push_event, fp_on_stats; no GIL) and the dispatcher thread hands each batch to this
# object: log lines to the producer's logger ("fastprod.librdkafka" unless Producer(logger=...)
# gave one), the rest to error_cb/throttle_cb/stats_cb, or to the same logger without them.
# Included into _core.pyx.
#
# An unreachable broker makes librdkafka repeat the same line at every reconnection attempt
# (thousands in a few minutes): a line already logged in the last _REPEAT_WINDOW_MS is counted
# instead, and the count goes with its next appearance after the window. Lines that differ only
# in numbers ("after 0ms", "after 1ms") count as the same line.

_REPEAT_WINDOW_MS = 60_000
_LAST_LOGGED_MAX = 256  # distinct lines remembered for folding
_NUMBERS = re.compile(r"\d+")
_FATAL = -150  # RD_KAFKA_RESP_ERR__FATAL


cdef int _python_level(int syslog_level) noexcept:
    """logging's level for a syslog level (librdkafka's: 0 emergency ... 7 debug)."""
    if syslog_level <= 2:
        return 50  # CRITICAL
    if syslog_level == 3:
        return 40  # ERROR
    if syslog_level == 4:
        return 30  # WARNING
    if syslog_level <= 6:
        return 20  # INFO
    return 10      # DEBUG


@cython.final
cdef class _ClientEvents:

    def __cinit__(self):
        self.events.items = NULL
        self.events.len = self.events.cap = 0
        self.events.dropped = 0
        self.last_logged = {}
        self.metrics = {}

    def __dealloc__(self):
        free(self.events.items)

    cdef forward(self, fp_engine *engine, _Dispatcher dispatcher):
        """Hands what the engine kept since the last call to the logger and the callbacks
        (dispatcher thread); what a callback raises goes to dispatcher.callback_failed."""
        cdef size_t i, n
        cdef char *stats_json = NULL
        cdef fp_event *event
        with nogil:
            n = fp_engine_take_events(engine, &self.events, &stats_json)
        try:
            for i in range(n):
                event = &self.events.items[i]
                text = event.text.decode("utf-8", "replace")
                try:
                    if event.kind == FP_EVENT_LOG:
                        self._log(event.code, event.facility.decode("utf-8", "replace"), text)
                    elif event.kind == FP_EVENT_ERROR:
                        self._error(event.code, text)
                    else:
                        self._throttle(text, event.broker_id, event.code)
                except BaseException as exc:
                    dispatcher.callback_failed(exc)
            if self.events.dropped:
                self._log(4, "FASTPROD", f"{self.events.dropped} librdkafka events (log lines, "
                                         "errors) were dropped: they came faster than fastprod "
                                         "could hand them on")
            if stats_json != NULL:
                self.metrics = json.loads(stats_json)
                if self.stats_cb is not None:
                    try:
                        self.stats_cb(self.metrics)
                    except BaseException as exc:
                        dispatcher.callback_failed(exc)
        finally:
            free(stats_json)

    cdef _error(self, int code, str reason):
        exc = _errors.KafkaError.from_code(
            code, reason or rdk.rd_kafka_err2str(code).decode("utf-8", "replace"))
        if self.error_cb is not None:
            self.error_cb(exc)
        else:
            # librdkafka logs what went wrong itself (a FAIL line for a refused connection): a
            # second line at its level would only repeat it, except for a fatal error
            self._log(3 if code == _FATAL else 6, "ERROR", f"{exc.name}: {reason}")

    cdef _throttle(self, str broker_name, int32_t broker_id, int throttle_ms):
        if self.throttle_cb is not None:
            self.throttle_cb(_ThrottleEvent(broker_name, broker_id, throttle_ms / 1000.0))
        else:
            self._log(6, "THROTTLE", f"{broker_name} (id {broker_id}) throttled this producer "
                                     f"for {throttle_ms} ms")

    cdef _log(self, int level, str facility, str message):
        cdef int64_t now = fp_now_ms()
        if level == 4 and message.endswith(": retrying"):
            # a step librdkafka retries by itself (a fresh broker's "Coordinator load in
            # progress" for the producer id): news, not a warning for the user's terminal
            level = 6
        key = (level, facility, _NUMBERS.sub("#", message))
        seen = self.last_logged.get(key)
        if seen is not None and now - <int64_t>seen[0] < _REPEAT_WINDOW_MS:
            seen[1] += 1
            return
        repeats = seen[1] if seen is not None else 0
        if len(self.last_logged) >= _LAST_LOGGED_MAX:
            self.last_logged.clear()
        self.last_logged[key] = [now, 0]
        try:  # handlers and filters are user code: the dispatcher goes on whatever they do
            self.logger.log(_python_level(level), "librdkafka %s: %s%s", facility, message,
                            f" ({repeats} more times since it was last logged)" if repeats else "")
        except BaseException:
            pass
