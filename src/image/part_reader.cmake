# Lock-free, read-only access to the image store (store_reader.h), for the api-service.
list(APPEND IMAGE_SOURCES store_reader.cc)
