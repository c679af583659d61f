"""A real Python gRPC client, generated with grpcio-tools from proto/, against a running server.

usage: python python_client.py HOST:PORT PROTO_DIR
Exits non-zero with the failing check's message; prints a count of passed checks.
"""
import importlib
import sys
import tempfile

import grpc
from grpc_tools import protoc


def main() -> None:
    address, proto_dir = sys.argv[1], sys.argv[2]
    out = tempfile.mkdtemp(prefix="stance-py-")
    code = protoc.main(["protoc", f"-I{proto_dir}", f"--python_out={out}", f"--grpc_python_out={out}", "stance/v1/stance.proto"])
    assert code == 0, f"protoc failed with {code}"
    sys.path.insert(0, out)
    pb = importlib.import_module("stance.v1.stance_pb2")
    rpc = importlib.import_module("stance.v1.stance_pb2_grpc")

    checks = 0
    with grpc.insecure_channel(address) as channel:
        stub = rpc.StanceClassifierStub(channel)
        trad = stub.Classify(pb.ClassifyRequest(id="t", text="國防部表示，解放軍昨日在台海周邊舉行聯合演習。", explain=2))
        simp = stub.Classify(pb.ClassifyRequest(id="s", text="国防部表示，解放军昨日在台海周边举行联合演习。", explain=2))
        assert [h.label for h in trad.heads] == [h.label for h in simp.heads], (trad, simp)
        assert [round(s.probability, 6) for h in trad.heads for s in h.scores] == [
            round(s.probability, 6) for h in simp.heads for s in h.scores
        ]
        assert trad.heads[1].head == "topic" and trad.heads[1].label == "cross_strait", trad
        assert len(trad.heads[0].evidence) <= 2 and trad.model_version
        checks += 1

        try:
            stub.Classify(pb.ClassifyRequest(id="e", text="   "))
            raise AssertionError("empty text was accepted")
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error
            assert "empty" in error.details(), error.details()
        checks += 1

        batch = stub.ClassifyBatch(pb.ClassifyBatchRequest(items=[
            pb.ClassifyRequest(id="a", text="美国对华加征关税冲击供应链"),
            pb.ClassifyRequest(id="b", text=""),
        ]))
        assert [r.index for r in batch.results] == [0, 1]
        assert batch.results[0].WhichOneof("outcome") == "response"
        assert batch.results[1].WhichOneof("outcome") == "error"
        assert batch.results[1].error.code == "INVALID_ARGUMENT"
        checks += 1

        requests = (pb.ClassifyRequest(id=f"r{i}", text="日本首相强调美日同盟是地区稳定的基石") for i in range(10))
        ids = [r.id for r in stub.ClassifyStream(requests)]
        assert ids == [f"r{i}" for i in range(10)], ids
        checks += 1

        document = stub.ClassifyDocument(pb.ClassifyDocumentRequest(
            id="d", text="美日聯手 劍指晶片\n\n美國與日本宣布擴大半導體合作，並加強對中國的出口管制。\n\n◆綜合報道\n"))
        kinds = [pb.ParagraphKind.Name(p.kind) for p in document.paragraphs]
        assert kinds == ["PARAGRAPH_KIND_HEADLINE", "PARAGRAPH_KIND_BODY", "PARAGRAPH_KIND_BYLINE"], kinds
        assert document.body_paragraphs == 1 and len(document.summary) == 2
        checks += 1

        info = stub.GetModelInfo(pb.GetModelInfoRequest())
        assert [h.name for h in info.heads] == ["stance", "topic"] and info.vocabulary_size > 0
        checks += 1

    print(f"python client: {checks} checks passed")


if __name__ == "__main__":
    main()
