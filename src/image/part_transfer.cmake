# Layer trees and transfers (import/export of OCI layouts, docker archives, rootfs tarballs and
# ACIs; rootfs extraction).
list(APPEND IMAGE_SOURCES layer_trees.cc transfer_tar.cc transfer_import.cc transfer_oci.cc
     transfer_docker.cc transfer_aci.cc transfer_export.cc transfer_extract.cc)
list(APPEND IMAGE_TEST_SOURCES transfer_test.cc)
list(APPEND IMAGE_PRIVILEGED_TEST_SOURCES transfer_privileged_test.cc)
