# ListenEvents' engine (event_stream.h): the durable event log replayed and followed as
# v1alpha.Event batches with rkt's EventFilter.
list(APPEND API_SOURCES event_stream.cc)
list(APPEND API_TEST_SOURCES event_stream_test.cc)
