"""cc_grpc_proto: protobuf + gRPC C++ code from one .proto with Debian's protoc.

No rules_proto or cc_grpc_library is available offline, so one genrule runs protoc with
grpc_cpp_plugin and a cc_library wraps its outputs.

Example:
    cc_grpc_proto(
        name = "plugins_cc",
        src = "plugins.proto",
        grpc = True,
    )
"""

def cc_grpc_proto(name, src, grpc = False, deps = [], visibility = None, testonly = False):
    base = src[:-len(".proto")]
    outs = [base + ".pb.h", base + ".pb.cc"]
    if grpc:
        outs += [base + ".grpc.pb.h", base + ".grpc.pb.cc", base + "_mock.grpc.pb.h"]
    # protoc runs from the execution root, where an external repository's files sit under
    # external/<name>/. Rooting -I and the outputs there keeps the generated #includes
    # ("proto/plugins.pb.h") the same whether this repository is the main one or not.
    repository = native.repository_name().lstrip("@")
    root = "external/" + repository if repository else "."
    out_dir = "$(GENDIR)/" + root if repository else "$(GENDIR)"
    grpc_flags = ""
    if grpc:
        grpc_flags = ("--plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin " +
                      "--grpc_out=generate_mock_code=true:" + out_dir + " ")
    native.genrule(
        name = name + "_gen",
        srcs = [src],
        outs = outs,
        cmd = ("/usr/bin/protoc -I" + root + " --cpp_out=" + out_dir + " " + grpc_flags +
               "$(location " + src + ")"),
        testonly = testonly,
    )
    native.cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        deps = deps + ["@protobuf"] + (["@grpc//:grpc++"] if grpc else []),
        visibility = visibility,
        testonly = testonly,
    )
