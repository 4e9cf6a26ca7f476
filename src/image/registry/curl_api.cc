// LibCurl: libcurl resolved with DynamicLibrary on first use, see curl_api.h. Thread-safe (a
// function-local static initializes it once).
#include "image/registry/curl_api.h"

#include <fmt/format.h>

#include "os/dynamic_library.h"

namespace comet::image::registry {
namespace {

Status ResolveAll(const os::DynamicLibrary& lib, CurlApi& api) {
  RETURN_IF_ERROR(lib.Resolve("curl_global_init", api.global_init));
  RETURN_IF_ERROR(lib.Resolve("curl_easy_init", api.easy_init));
  RETURN_IF_ERROR(lib.Resolve("curl_easy_cleanup", api.easy_cleanup));
  RETURN_IF_ERROR(lib.Resolve("curl_easy_setopt", api.easy_setopt));
  RETURN_IF_ERROR(lib.Resolve("curl_easy_getinfo", api.easy_getinfo));
  RETURN_IF_ERROR(lib.Resolve("curl_easy_perform", api.easy_perform));
  RETURN_IF_ERROR(lib.Resolve("curl_easy_strerror", api.easy_strerror));
  RETURN_IF_ERROR(lib.Resolve("curl_slist_append", api.slist_append));
  RETURN_IF_ERROR(lib.Resolve("curl_slist_free_all", api.slist_free_all));
  RETURN_IF_ERROR(lib.Resolve("curl_share_init", api.share_init));
  RETURN_IF_ERROR(lib.Resolve("curl_share_setopt", api.share_setopt));
  RETURN_IF_ERROR(lib.Resolve("curl_share_cleanup", api.share_cleanup));
  RETURN_IF_ERROR(lib.Resolve("curl_url", api.url));
  RETURN_IF_ERROR(lib.Resolve("curl_url_cleanup", api.url_cleanup));
  RETURN_IF_ERROR(lib.Resolve("curl_url_set", api.url_set));
  RETURN_IF_ERROR(lib.Resolve("curl_url_get", api.url_get));
  RETURN_IF_ERROR(lib.Resolve("curl_free", api.free));
  return Ok();
}

Result<CurlApi> LoadAndInit() {
  ASSIGN_OR_RETURN(CurlApi api, LoadCurlApi(kCurlSoname));
  // Before any other curl call, once: it is not thread-safe, the static around us makes it so.
  if (CURLcode code = api.global_init(CURL_GLOBAL_DEFAULT); code != CURLE_OK) {
    return Err(Error(ELIBACC, fmt::format("image pulls need libcurl: curl_global_init: {}",
                                          api.easy_strerror(code))));
  }
  return api;
}

}  // namespace

Result<CurlApi> LoadCurlApi(const std::string& soname) {
  return os::LoadFunctionTable<CurlApi>(soname, "image pulls", ResolveAll);
}

Result<const CurlApi*> LibCurl() {
  static const Result<CurlApi> kLoaded = LoadAndInit();
  if (!kLoaded) {
    return Err(kLoaded.error());
  }
  return &*kLoaded;
}

}  // namespace comet::image::registry
