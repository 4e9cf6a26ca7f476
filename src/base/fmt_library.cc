// fmt's compiled part (fmt/format-inl.h), built once for all of comet. Including fmt header-only
// made each of the ~200 files that format compile and optimise this code again; the shared
// libfmt is not an option because it pulls the shared libstdc++ into binaries that link it
// statically. Thread-safe as fmt is.
#include <fmt/format.h>
// format-inl.h defines what format.h only declares when FMT_HEADER_ONLY is unset.
#include <fmt/format-inl.h>

FMT_BEGIN_NAMESPACE
namespace detail {
// format.h declares these `extern template`: they are instantiated here and nowhere else.
template FMT_API auto thousands_sep_impl<char>(locale_ref) -> thousands_sep_result<char>;
template FMT_API auto decimal_point_impl(locale_ref) -> char;
// Floating-point formatting (durations, sizes) calls the shortest-representation algorithm.
template FMT_API auto dragonbox::to_decimal(float x) noexcept -> dragonbox::decimal_fp<float>;
template FMT_API auto dragonbox::to_decimal(double x) noexcept -> dragonbox::decimal_fp<double>;
}  // namespace detail
FMT_END_NAMESPACE
