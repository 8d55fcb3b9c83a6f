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
            else:
                future = <DeliveryFuture>c.opaque  # a reference of ours: _resolve drops the record's
                future._resolve(c)
        return 0
