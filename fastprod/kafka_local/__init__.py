"""A local Apache Kafka (KRaft) broker or cluster on 127.0.0.1 for tests and `fastprod bench`:
`fastprod kafka start|stop|status|fetch|signal|restart-node` (see command.USAGE).

Standard library only, and nothing from the rest of fastprod (whose package imports the compiled
core): scripts/kafka-local loads this directory by path, so it runs before fastprod is built.
Hence the relative imports between its modules.
"""
