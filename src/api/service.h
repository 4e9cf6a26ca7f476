// PublicApiService: rkt's read-only gRPC service v1alpha.PublicAPI over one comet data directory,
// answering from the pod and image catalogs (pod_catalog.h, image_catalog.h) and the pods' CRI
// logs. It never writes to the data directory. Every handler turns errors into a status code
// (status_mapping.h) and never lets an exception out. Thread-safe: gRPC calls the handlers from
// many threads at once.
#ifndef COMET_API_SERVICE_H_
#define COMET_API_SERVICE_H_

#include <atomic>
#include <memory>
#include <string>

#include "api/image_catalog.h"
#include "api/pod_catalog.h"
#include "v1alpha/api.grpc.pb.h"

namespace comet::api {

struct ServiceConfig {
  std::string version;   // comet's, for GetInfo's rkt_version
  std::string data_dir;  // GetInfo's global_flags.dir
  // comet reads no configuration directories (yet): GetInfo reports these as they are.
  std::string system_config_dir;
  std::string local_config_dir;
  std::string user_config_dir;
  // GetLogs calls with follow=true served at once; more are RESOURCE_EXHAUSTED (each holds a
  // thread per app of the pod until its client goes away).
  int max_follows = 64;
};

// The most lines a GetLogs request may ask for (`lines`): rkt had no bound; a client asking for
// more than this is a bug (or an attempt to make the service read a huge log into memory).
inline constexpr int kMaxLogLines = 100000;

// ListPods is served raw (a callback method on bytes): its answer is the concatenation of the
// catalog's pre-encoded pods (PodCatalog::ListWire), with no message built, copied or serialized
// per call. The typed ListPods below answers the same for in-process callers.
using PublicApiBase =
    v1alpha::PublicAPI::WithRawCallbackMethod_ListPods<v1alpha::PublicAPI::Service>;

class PublicApiService final : public PublicApiBase {
 public:
  PublicApiService(std::unique_ptr<PodCatalog> pods, std::unique_ptr<ImageCatalog> images,
                   ServiceConfig config);

  grpc::Status GetInfo(grpc::ServerContext* context, const v1alpha::GetInfoRequest* request,
                       v1alpha::GetInfoResponse* response) override;
  grpc::Status ListPods(grpc::ServerContext* context, const v1alpha::ListPodsRequest* request,
                        v1alpha::ListPodsResponse* response) override;
  grpc::ServerUnaryReactor* ListPods(grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* request,
                                     grpc::ByteBuffer* response) override;
  grpc::Status InspectPod(grpc::ServerContext* context, const v1alpha::InspectPodRequest* request,
                          v1alpha::InspectPodResponse* response) override;
  grpc::Status ListImages(grpc::ServerContext* context, const v1alpha::ListImagesRequest* request,
                          v1alpha::ListImagesResponse* response) override;
  grpc::Status InspectImage(grpc::ServerContext* context,
                            const v1alpha::InspectImageRequest* request,
                            v1alpha::InspectImageResponse* response) override;
  grpc::Status ListenEvents(grpc::ServerContext* context,
                            const v1alpha::ListenEventsRequest* request,
                            grpc::ServerWriter<v1alpha::ListenEventsResponse>* writer) override;
  grpc::Status GetLogs(grpc::ServerContext* context, const v1alpha::GetLogsRequest* request,
                       grpc::ServerWriter<v1alpha::GetLogsResponse>* writer) override;

  // Ends every follow (OK, as if the pod had stopped) within about 100 ms, and makes new ones
  // end at once: called before grpc::Server::Shutdown, so that shutting down does not wait for
  // clients that would follow forever.
  void StopFollowing() { stopping_.store(true); }

 private:
  std::unique_ptr<PodCatalog> pods_;
  std::unique_ptr<ImageCatalog> images_;
  const ServiceConfig config_;
  std::atomic<int> follows_{0};
  std::atomic<bool> stopping_{false};
};

}  // namespace comet::api

#endif  // COMET_API_SERVICE_H_
