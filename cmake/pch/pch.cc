// Nothing: the target that builds comet_pch.h once (cmake/ProjectOptions.cmake).
