# PodCatalog and ImageCatalog (pod_catalog.h, image_catalog.h): the pods and images of a data
# directory as v1alpha messages, with rkt's filters and a cache invalidated by change (inotify
# for pods: pod_watch.h).
list(APPEND API_SOURCES file_stamp.cc image_name.cc pod_filter.cc pod_view.cc pod_watch.cc
     pod_catalog.cc image_filter.cc image_catalog.cc)
list(APPEND API_TEST_SOURCES pod_filter_test.cc pod_catalog_test.cc pod_catalog_watch_test.cc
     image_catalog_test.cc image_name_test.cc)
list(APPEND API_PRIVILEGED_TEST_SOURCES pod_catalog_privileged_test.cc)
