"""Declares Debian's system libraries as Bazel repositories, one BUILD file each."""

_LIBRARIES = {
    "absl": "absl.BUILD",
    "benchmark": "benchmark.BUILD",
    "curl": "curl.BUILD",
    "grpc": "grpc.BUILD",
    "gtest": "gtest.BUILD",
    "httplib": "httplib.BUILD",
    "libcrypto": "libcrypto.BUILD",
    "protobuf": "protobuf.BUILD",
    "simdjson": "simdjson.BUILD",
    "yaml_cpp": "yaml_cpp.BUILD",
}

def system_libraries():
    for name, build_file in _LIBRARIES.items():
        native.new_local_repository(
            name = name,
            path = "/usr",
            build_file = "//third_party:" + build_file,
        )
