"""cc_fuzz_target: a libFuzzer target plus a gcc-built replay test of its seed corpus.

`name` builds only under `--config=fuzz` (clang, libFuzzer, ASan+UBSan; see tools/fuzz.sh).
`name + "_replay_test"` links the same LLVMFuzzerTestOneInput with replay_main.cc and runs
every file of the corpus through it in the ordinary `bazel test //...`, so the fuzzer keeps
compiling and every seed keeps passing.

Example:
    cc_fuzz_target(
        name = "token_response_fuzzer",
        srcs = ["token_response_fuzzer.cc"],
        corpus = ["//testdata:token_responses"],
        deps = [":token_response"],
    )
"""

def cc_fuzz_target(name, srcs, deps = [], corpus = [], visibility = None):
    native.cc_binary(
        name = name,
        srcs = srcs,
        deps = deps,
        linkopts = select({
            "//tools:fuzzing": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        tags = ["manual", "fuzz"],
        testonly = True,
        visibility = visibility,
    )
    native.cc_test(
        name = name + "_replay_test",
        srcs = srcs,
        deps = deps + ["//tools:fuzz_replay_main"],
        data = corpus,
        args = ["$(locations " + c + ")" for c in corpus],
        size = "small",
    )
