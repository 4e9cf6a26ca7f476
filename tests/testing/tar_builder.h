// TarBuilder: builds tar streams in memory, byte by byte, for tests of the layer unpacker —
// including malformed ones (bad checksums, lying size fields, hostile names). Gzip/Zstd wrap
// bytes with zlib/libzstd. Not thread-safe.
#ifndef COMET_TESTING_TAR_BUILDER_H_
#define COMET_TESTING_TAR_BUILDER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace comet::testing {

struct TarEntry {
  std::string name;
  char type = '0';  // '0' file, '1' hardlink, '2' symlink, '3' char, '4' block, '5' dir, '6' fifo
  std::string data;
  std::string link;  // symlink or hardlink target
  uint32_t mode = 0644;
  uint64_t uid = 0;
  uint64_t gid = 0;
  int64_t mtime = 1700000000;
  uint32_t dev_major = 0;
  uint32_t dev_minor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;  // as PAX SCHILY.xattr.<name>
  std::vector<std::pair<std::string, std::string>> pax;     // further PAX records
  bool gnu_long_names = false;  // names over 100 bytes as GNU 'L'/'K' entries instead of PAX
  bool bad_checksum = false;
  std::optional<uint64_t> declared_size;  // size field written instead of data.size()
};

// An entry with the given name, type and data; set further fields on the result.
TarEntry MakeEntry(std::string name, char type = '0', std::string data = {});

class TarBuilder {
 public:
  TarBuilder& File(std::string name, std::string data, uint32_t mode = 0644);
  TarBuilder& Dir(std::string name, uint32_t mode = 0755);
  TarBuilder& Symlink(std::string name, std::string target);
  TarBuilder& Hardlink(std::string name, std::string target);
  TarBuilder& Add(const TarEntry& entry);
  // Bytes appended verbatim (a hand-made header, garbage).
  TarBuilder& Raw(const std::string& bytes);
  // The stream, with the two zero blocks that end an archive when `end_marker`.
  [[nodiscard]] std::string Finish(bool end_marker = true) const;

 private:
  std::string out_;
};

// One 512-byte ustar header (no data), for hand-made streams.
std::string TarHeader(const TarEntry& entry, std::string_view name, std::string_view link,
                      char type, uint64_t size);

std::string Gzip(std::string_view data);
std::string Zstd(std::string_view data);

}  // namespace comet::testing

#endif  // COMET_TESTING_TAR_BUILDER_H_
