# comet's app annotations in v1alpha.App (app_annotations.h): restarts, reason, message, times,
# state and init from the app's status file and manifest.
list(APPEND API_SOURCES app_annotations.cc)
list(APPEND API_TEST_SOURCES app_annotations_test.cc)
