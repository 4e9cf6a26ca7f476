# pod-events: the durable event log (pod/event_log.h) that comet and the supervisors append to and
# the api-service's ListenEvents follows. Paths are relative to src/pod.
list(APPEND POD_SOURCES event_log.cc event_follower.cc)
list(APPEND POD_TEST_SOURCES event_log_test.cc)
