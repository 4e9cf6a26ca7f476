# supervisor-rootlessnet: a rootless pod's contained network through pasta or slirp4netns.
list(APPEND SUPERVISOR_SOURCES rootless_net.cc rootless_net_args.cc)
list(APPEND SUPERVISOR_TEST_SOURCES rootless_net_test.cc)
