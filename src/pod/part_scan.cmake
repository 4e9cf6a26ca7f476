# pod-scan: the read-only, fd-based view of the pods directory that the api-service's catalog
# keeps open (pod_store_scan.h). Paths are relative to src/pod.
list(APPEND POD_SOURCES pod_store_scan.cc)
