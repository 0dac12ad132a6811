"""azure_la_dependencies(): what a Bazel workspace needs to build this toolkit's targets.

Another workspace uses the toolkit as an external repository with three WORKSPACE lines:

    local_repository(name = "azure_la", path = "/path/to/this/checkout")
    load("@azure_la//:deps.bzl", "azure_la_dependencies")
    azure_la_dependencies()

and the toolkit's C++ level in its .bazelrc (Debian's abseil is built at C++17 and its
ABI follows the language level):

    build --cxxopt=-std=c++17 --host_cxxopt=-std=c++17

The macro declares, unless the workspace already has a repository of that name:
  - the system libraries the toolkit's BUILD files name (@absl, @grpc, @protobuf, @curl,
    @libcrypto, @simdjson, @gtest, @benchmark, @httplib, @yaml_cpp): Debian's packages
    under /usr, each described by a BUILD file in this repository's third_party/;
  - @rules_cc and @remote_coverage_tools, the two small local stand-ins Bazel 4.2.3
    would otherwise download (copied from third_party/bazel/);
  - @rules_java from Debian's bazel-rules-java (/usr/share/bazel/rules/java).
A workspace that has its own repository under one of these names keeps it; it must then
offer the targets the toolkit uses (see third_party/README.md).

Labels are resolved against this repository whatever name the consumer gives it.
"""

# Keep in step with third_party/system_libraries.bzl (tools/external_workspace_test
# checks that both name the same libraries).
_SYSTEM_LIBRARIES = [
    "absl",
    "benchmark",
    "curl",
    "grpc",
    "gtest",
    "httplib",
    "libcrypto",
    "protobuf",
    "simdjson",
    "yaml_cpp",
]

# Files of the local stand-ins, relative to third_party/bazel/<name>/.
_STAND_INS = {
    "rules_cc": ["WORKSPACE", "BUILD", "cc/BUILD", "cc/defs.bzl"],
    "remote_coverage_tools": ["WORKSPACE", "BUILD"],
}

def _stand_in_impl(repository_ctx):
    # third_party/BUILD.bazel is a file of a package, so its path can be asked for; the
    # stand-ins sit beside it (in directories that are not packages of this repository).
    third_party = repository_ctx.path(Label("//third_party:BUILD.bazel")).dirname
    source = third_party.get_child("bazel").get_child(repository_ctx.attr.directory)
    for relative in repository_ctx.attr.files:
        path = source
        for part in relative.split("/"):
            path = path.get_child(part)
        repository_ctx.file(relative, repository_ctx.read(path))

_stand_in = repository_rule(
    implementation = _stand_in_impl,
    attrs = {
        "directory": attr.string(mandatory = True),
        "files": attr.string_list(mandatory = True),
    },
    local = True,
)

def _missing(name):
    return native.existing_rule(name) == None

def azure_la_dependencies():
    """Declares the repositories the toolkit's targets need (see the top of this file)."""
    for name in _SYSTEM_LIBRARIES:
        if _missing(name):
            native.new_local_repository(
                name = name,
                path = "/usr",
                build_file = str(Label("//third_party:" + name + ".BUILD")),
            )
    for name, files in _STAND_INS.items():
        if _missing(name):
            _stand_in(name = name, directory = name, files = files)
    if _missing("rules_java"):
        native.local_repository(
            name = "rules_java",
            path = "/usr/share/bazel/rules/java",
        )
