// File: testdata/workspace_model/fake_azure_handler.h
//
// Serves a WorkspaceModel behind FakeAzureServer: the server checks the bearer token,
// workspace id, Content-Type and JSON body over real HTTPS, then this handler answers
// from the model (rows, errors, faults) exactly as WorkspaceModel::Answer does.
//
// Example:
//   fake_azure::FakeAzureServer azure;
//   workspace_model::WorkspaceModel model(clock.AsClock());
//   azure.SetQueryHandler(workspace_model::MakeQueryHandler(&model));
//   ASSERT_TRUE(azure.Start().ok());
//
// The handler is thread-safe (the model is); `model` must outlive the server.
#ifndef TESTDATA_WORKSPACE_MODEL_FAKE_AZURE_HANDLER_H_
#define TESTDATA_WORKSPACE_MODEL_FAKE_AZURE_HANDLER_H_

#include "testdata/fake_azure/fake_azure_server.h"
#include "testdata/workspace_model/workspace_model.h"

namespace workspace_model {

// A FakeAzureServer query handler answering from `model`.
inline fake_azure::QueryHandler MakeQueryHandler(WorkspaceModel* model) {
  return [model](const fake_azure::QueryRequest& request) {
    ModelReply reply = model->Answer({request.workspace_id, request.query, request.timespan});
    return fake_azure::QueryReply{reply.status, reply.headers, reply.body};
  };
}

}  // namespace workspace_model

#endif  // TESTDATA_WORKSPACE_MODEL_FAKE_AZURE_HANDLER_H_
