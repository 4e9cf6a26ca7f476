// The libcurl functions comet calls, loaded on first use (dlopen), so that commands which pull
// nothing (run, list, status...) do not load libcurl and its ~30 dependencies at every start.
// Thread-safe: the table is loaded once and never changes.
#ifndef COMET_IMAGE_REGISTRY_CURL_API_H_
#define COMET_IMAGE_REGISTRY_CURL_API_H_

#include <string>

#include <curl/curl.h>

#include "base/result.h"

namespace comet::image::registry {

inline constexpr const char* kCurlSoname = "libcurl.so.4";

// Each member is the function named curl_<member>, typed from <curl/curl.h>.
struct CurlApi {
  decltype(&curl_global_init) global_init = nullptr;
  decltype(&curl_easy_init) easy_init = nullptr;
  decltype(&curl_easy_cleanup) easy_cleanup = nullptr;
  decltype(&curl_easy_setopt) easy_setopt = nullptr;
  decltype(&curl_easy_getinfo) easy_getinfo = nullptr;
  decltype(&curl_easy_perform) easy_perform = nullptr;
  decltype(&curl_easy_strerror) easy_strerror = nullptr;
  decltype(&curl_slist_append) slist_append = nullptr;
  decltype(&curl_slist_free_all) slist_free_all = nullptr;
  decltype(&curl_share_init) share_init = nullptr;
  decltype(&curl_share_setopt) share_setopt = nullptr;
  decltype(&curl_share_cleanup) share_cleanup = nullptr;
  decltype(&curl_url) url = nullptr;
  decltype(&curl_url_cleanup) url_cleanup = nullptr;
  decltype(&curl_url_set) url_set = nullptr;
  decltype(&curl_url_get) url_get = nullptr;
  decltype(&curl_free) free = nullptr;

  bool operator==(const CurlApi&) const = default;
};

// Loads `soname` and resolves every member; curl_global_init is not called. Errors say that
// image pulls need the library, with dlerror's text.
[[nodiscard]] Result<CurlApi> LoadCurlApi(const std::string& soname);

// libcurl (kCurlSoname), loaded and curl_global_init'ed once per process on the first call;
// later calls return the same table, or the same error.
[[nodiscard]] Result<const CurlApi*> LibCurl();

}  // namespace comet::image::registry

#endif  // COMET_IMAGE_REGISTRY_CURL_API_H_
