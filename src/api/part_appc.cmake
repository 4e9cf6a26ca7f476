# appc PodManifest / ImageManifest JSON for Pod.manifest and Image.manifest (appc_manifest.h), the
# shape rkt's clients (the kubelet's rkt runtime) decode.
list(APPEND API_SOURCES appc_manifest.cc)
list(APPEND API_TEST_SOURCES appc_manifest_test.cc)
