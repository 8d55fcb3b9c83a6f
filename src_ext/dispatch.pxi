# The dispatcher thread: takes delivery results from the engine in batches and resolves futures
# and batch results under one GIL acquisition per batch. Included into _core.pyx.
#
# It holds this object, never the producer, so a producer dropped without close() is collected
# (its finalizer closes it). When the last reference to the producer goes while the dispatcher
# still runs (e.g. a delivery callback dropped it), the producer stops the engine and leaves it
# to the dispatcher to free once its loop ends: free_when_finished.


@cython.final
cdef class _Dispatcher:

    def run(self):
        """The thread's body: resolves completions until the engine has stopped."""
        cdef fp_engine *engine = self.engine
        try:
            self._resolve_until_finished()
        finally:
            try:
                self._log_unlogged_lost()
                self.client_events.forward(engine, self)  # what close() brought
            except BaseException:
                pass
            self.finished = True
            if self.free_when_finished:
                self.engine = NULL
                with nogil:
                    fp_engine_join(engine)
                    fp_engine_free(engine)

    cdef _resolve_until_finished(self):
        cdef fp_completions batch
        cdef int finished = 0
        cdef size_t n
        cdef fp_engine *engine = self.engine
        batch.items = NULL
        batch.len = batch.cap = 0
        try:
            while True:
                with nogil:
                    n = fp_engine_take(engine, &batch, WAIT_SLICE_MS * 5, &finished)
                if finished:
                    return
                self.client_events.forward(engine, self)
                self.next_item = 0
                while self.next_item < n:  # one failing completion must not cost the others
                    try:
                        self._resolve(&batch)
                    except BaseException as exc:
                        try:
                            _log.error("resolving a delivery result failed: %r", exc, exc_info=exc)
                        except BaseException:
                            pass
                if n:
                    with nogil:
                        fp_engine_resolved(engine, n)
                if self.lost_unlogged and fp_now_ms() - self.lost_logged_ms >= 1000:
                    self.lost_logged_ms = fp_now_ms()
                    self._log_unlogged_lost()
        finally:
            free(batch.items)

    cdef int _resolve(self, fp_completions *batch) except -1:
        """Resolves the batch's items from next_item on."""
        cdef fp_completion *c
        cdef DeliveryFuture future
        while self.next_item < batch.len:
            c = &batch.items[self.next_item]
            self.next_item += 1
            if c.err:
                self.failed += 1
            else:
                self.delivered += 1
            if _is_batch_opaque(c.opaque):
                _batch_of(c.opaque)._resolve(c)
            elif (<size_t>c.opaque) & FP_OPAQUE_LOST:
                self._report_lost(c)
            else:
                future = <DeliveryFuture>c.opaque  # a reference of ours: _resolve drops the record's
                future._resolve(c)
        return 0

    cdef _report_lost(self, fp_completion *c):
        """A record of send_and_forget() failed: to on_delivery_error, or to the log."""
        cdef fp_lost_record *lost = <fp_lost_record *>((<size_t>c.opaque) & ~FP_OPAQUE_LOST)
        try:
            topic = rdk.rd_kafka_topic_name(lost.rkt).decode("utf-8", "replace")
            exc = _kafka_error(c.err, c.status)
            handler = self.on_delivery_error
            if handler is None:
                self._log_lost(topic, c.partition, exc)
                return
            key = (PyBytes_FromStringAndSize(lost.bytes, lost.key_len)
                   if lost.flags & FP_SLOT_HAS_KEY else None)
            value = (PyBytes_FromStringAndSize(lost.bytes + lost.key_len, lost.value_len)
                     if lost.flags & FP_SLOT_HAS_VALUE else None)
            record = _ProducerRecord(topic, value, key,
                                     c.partition if c.partition >= 0 else None,
                                     c.timestamp_ms if c.timestamp_ms >= 0 else None)
            try:
                handler(exc, record)
            except BaseException as handler_exc:
                self.callback_failed(handler_exc)
        finally:
            free(lost)

    cdef _log_lost(self, str topic, int32_t partition, exc):
        cdef int64_t now = fp_now_ms()
        if self.lost_logged_ms != 0 and now - self.lost_logged_ms < 1000:
            self.lost_unlogged += 1
            return
        more = self.lost_unlogged
        self.lost_logged_ms = now
        self.lost_unlogged = 0
        try:
            _log.error("a record sent by send_and_forget() to %r [%d] failed: %s%s", topic,
                       partition, exc, f" ({more} more failed since the last such line)"
                       if more else "")
        except BaseException:  # logging handlers are user code: the dispatcher goes on
            pass

    cdef _log_unlogged_lost(self):
        if self.lost_unlogged:
            _log.error("%d more records sent by send_and_forget() failed since the last such "
                       "line", self.lost_unlogged)
            self.lost_unlogged = 0

    cdef callback_failed(self, BaseException exc):
        """A delivery callback, on_delivery_error, error_cb, throttle_cb or stats_cb raised:
        logged, and kept for the next flush()/close() to raise."""
        if self.callback_error is None:
            self.callback_error = exc
        try:  # logging runs handlers and filters: user code that must not end the dispatcher
            _log.error("a callback raised %r; it is re-raised by the next "
                       "flush()/close()", exc, exc_info=exc)
        except BaseException:
            pass
