"""A stateful fake of DashScope's OpenAI-compatible Batch service, for ``FakeServer.handler``.

It implements ``/files`` (multipart upload with ``purpose``, ``GET /files/{id}``, ``GET
/files/{id}/content``, ``DELETE /files/{id}``) and ``/batches`` (create, get, list with
``"data": null`` when empty, cancel) under the compatible-mode prefix, with the shapes of the
recorded fixtures. Each batch follows a scripted lifecycle that advances one step on every
``GET /batches/{id}``, so tests never sleep:

- ``complete``: validating -> in_progress -> finalizing -> completed, with an output file
  (an ``echo:<prompt>`` answer per line, or for a line with ``tools`` a call of its first
  tool with arguments ``{"id": <custom_id>}``, written in reverse order: results are matched
  by ``custom_id``, never by position) and an error file for the ids in ``fail_ids``;
- ``expire``: validating -> in_progress -> expired, with output for the first half only;
- ``fail``: validating -> failed, with ``validation_errors`` (``errors.data[]`` with lines);
- cancel: ``POST /batches/{id}/cancel`` -> cancelling, next GET -> cancelled, with output for
  the lines done so far (none before in_progress, half after).

``scenario`` is one of those names, or a function of the batch's metadata returning one.
``create_replies`` scripts special answers to ``POST /batches`` (``("fail", Reply)`` answers
without creating; ``("delay", seconds)`` creates, then answers late), and ``cut_downloads``
cuts that many content downloads half way.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import uuid
from collections import deque
from collections.abc import Callable
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from fakeserver import FIXTURES, Recorded, Reply, json_reply, last_user_text

PREFIX = "/compatible-mode/v1"
CREATED = 1788534396
USAGE = {
    "prompt_tokens": 20,
    "completion_tokens": 10,
    "total_tokens": 30,
    "prompt_tokens_details": {"cached_tokens": 4},
    "completion_tokens_details": {"reasoning_tokens": 3},
}
LIFECYCLES = {
    "complete": ["validating", "in_progress", "finalizing", "completed"],
    "expire": ["validating", "in_progress", "expired"],
    "fail": ["validating", "failed"],
}
TERMINAL = {"completed", "expired", "failed", "cancelled"}


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / "batch" / name).read_text())


def request_id(custom_id: str) -> str:
    return str(uuid.UUID(hashlib.md5(custom_id.encode()).hexdigest()))


class FakeBatchService:
    def __init__(self) -> None:
        self.files: dict[str, dict[str, Any]] = {}
        self.contents: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.order: list[str] = []
        self.steps: dict[str, list[str]] = {}
        self.lines: dict[str, list[dict[str, Any]]] = {}
        self.scenario: str | Callable[[dict[str, Any]], str] = "complete"
        self.fail_ids: set[str] = set()
        self.validation_errors: list[dict[str, Any]] = []
        self.create_replies: deque[tuple[str, Any]] = deque()
        self.cut_downloads = 0
        self.uploads: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # -- routing
    def handle(self, request: Recorded) -> Reply | None:
        path = request.path
        if not path.startswith(PREFIX):
            return None
        path = path[len(PREFIX) :]
        parts = [p for p in path.split("/") if p]
        with self._lock:
            if parts == ["files"] and request.method == "POST":
                return self._upload(request)
            if parts[:1] == ["files"] and len(parts) == 2 and request.method == "GET":
                return self._file(parts[1])
            if parts[:1] == ["files"] and len(parts) == 3 and parts[2] == "content":
                return self._content(parts[1])
            if parts[:1] == ["files"] and len(parts) == 2 and request.method == "DELETE":
                self.files.pop(parts[1], None)
                return json_reply({"id": parts[1], "object": "file", "deleted": True})
            if parts == ["batches"] and request.method == "POST":
                return self._create(request)
            if parts == ["batches"] and request.method == "GET":
                return self._list(request)
            if parts[:1] == ["batches"] and len(parts) == 2 and request.method == "GET":
                return self._get(parts[1])
            if parts[:1] == ["batches"] and len(parts) == 3 and parts[2] == "cancel":
                return self._cancel(parts[1])
        return json_reply({"error": {"message": f"no route {request.path}"}}, 404)

    # -- files
    def _upload(self, request: Recorded) -> Reply:
        head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(head + request.body)
        fields: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            fields[str(name)] = (part.get_filename(), payload)
        filename, content = fields["file"]
        purpose = fields["purpose"][1].decode()
        file_id = f"file-batch-{next(self._ids):08d}"
        self.contents[file_id] = content
        obj = {
            **fixture("file_upload_response.json"),
            "id": file_id,
            "bytes": len(content),
            "filename": filename,
            "purpose": purpose,
        }
        self.files[file_id] = obj
        self.uploads.append({"id": file_id, "filename": filename, "purpose": purpose})
        return json_reply(obj)

    def _file(self, file_id: str) -> Reply:
        if file_id not in self.files:
            return json_reply({"error": {"message": "file not found"}}, 404)
        return json_reply(self.files[file_id])

    def _content(self, file_id: str) -> Reply:
        if file_id not in self.contents:
            return json_reply({"error": {"message": "file not found"}}, 404)
        data = self.contents[file_id]
        if self.cut_downloads > 0:
            self.cut_downloads -= 1
            return Reply(
                200,
                {"content-type": "application/octet-stream"},
                chunks=[(0.0, data[: len(data) // 2])],
                abort=True,
            )
        return Reply(200, {"content-type": "application/octet-stream"}, data)

    def _new_file(self, name: str, lines: list[dict[str, Any]]) -> str:
        file_id = f"file-batch_output-{next(self._ids):08d}"
        data = b"".join(
            json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
            for line in lines
        )
        self.contents[file_id] = data
        self.files[file_id] = {
            "id": file_id,
            "object": "file",
            "bytes": len(data),
            "filename": name,
            "purpose": "batch_output",
            "status": "processed",
            "created_at": CREATED,
        }
        return file_id

    # -- batches
    def _create(self, request: Recorded) -> Reply:
        body = request.json
        special = self.create_replies.popleft() if self.create_replies else None
        if special is not None and special[0] == "fail":
            return special[1]
        batch_id = f"batch_{uuid.uuid4()}"
        content = self.contents[body["input_file_id"]]
        lines = [json.loads(x) for x in content.splitlines() if x.strip()]
        scenario = self.scenario
        name = scenario(body.get("metadata") or {}) if callable(scenario) else scenario
        batch = {
            **fixture("batch_create_response.json"),
            "id": batch_id,
            "endpoint": body["endpoint"],
            "input_file_id": body["input_file_id"],
            "completion_window": body["completion_window"],
            "metadata": body.get("metadata"),
            "created_at": CREATED + len(self.order),
            "request_counts": {"total": 0, "completed": 0, "failed": 0},
        }
        self.batches[batch_id] = batch
        self.order.append(batch_id)
        self.steps[batch_id] = list(LIFECYCLES[name])
        self.lines[batch_id] = lines
        reply = json_reply(batch)
        if special is not None and special[0] == "delay":
            reply.delay = special[1]
        return reply

    def _get(self, batch_id: str) -> Reply:
        batch = self.batches.get(batch_id)
        if batch is None:
            return json_reply({"error": {"message": "batch not found"}}, 404)
        steps = self.steps[batch_id]
        if batch["status"] not in TERMINAL and steps:
            if steps[0] == batch["status"]:
                steps.pop(0)
            if steps:
                self._advance(batch, steps.pop(0) if len(steps) > 1 else steps[0])
        return json_reply(batch)

    def _advance(self, batch: dict[str, Any], status: str) -> None:
        lines = self.lines[batch["id"]]
        total = len(lines)
        batch["status"] = status
        stamp = CREATED + 100
        if status == "in_progress":
            batch["in_progress_at"] = stamp
            batch["request_counts"] = {"total": total, "completed": total // 2, "failed": 0}
        elif status == "finalizing":
            batch["finalizing_at"] = stamp + 1
            failed = len([x for x in lines if x["custom_id"] in self.fail_ids])
            batch["request_counts"] = {
                "total": total,
                "completed": total - failed,
                "failed": failed,
            }
        elif status == "completed":
            batch["completed_at"] = stamp + 2
            self._results(batch, lines)
        elif status == "expired":
            batch["expired_at"] = stamp + 2
            self._results(batch, lines[: total // 2])
        elif status == "failed":
            batch["failed_at"] = stamp
            batch["errors"] = {"object": "list", "data": list(self.validation_errors)}
        elif status == "cancelled":
            batch["cancelled_at"] = stamp + 3
            done = lines[: total // 2] if batch.get("in_progress_at") else []
            self._results(batch, done)

    def _results(self, batch: dict[str, Any], done: list[dict[str, Any]]) -> None:
        out, err = [], []
        for line in done:
            cid = line["custom_id"]
            rid = request_id(cid)
            if cid in self.fail_ids:
                err.append(
                    {
                        "id": rid,
                        "custom_id": cid,
                        "response": {
                            "status_code": 400,
                            "request_id": rid,
                            "body": {
                                "error": {
                                    "code": "data_inspection_failed",
                                    "message": "Input data may contain inappropriate content.",
                                    "type": "data_inspection_failed",
                                    "param": None,
                                }
                            },
                        },
                        "error": {
                            "code": "data_inspection_failed",
                            "message": "Input data may contain inappropriate content.",
                        },
                    }
                )
                continue
            answer = "echo:" + last_user_text(line["body"])
            message: dict[str, Any] = {
                "role": "assistant",
                "content": answer,
                "reasoning_content": "thought:" + cid,
            }
            finish = "stop"
            if line["body"].get("tools"):
                # A line with tools is answered by calling its first one, as a model would.
                name = line["body"]["tools"][0]["function"]["name"]
                arguments = json.dumps({"id": cid})
                call = {"type": "function", "function": {"name": name, "arguments": arguments}}
                message["content"], finish = None, "tool_calls"
                message["tool_calls"] = [{"id": "call_" + cid, **call}]
            out.append(
                {
                    "id": rid,
                    "custom_id": cid,
                    "response": {
                        "status_code": 200,
                        "request_id": rid,
                        "body": {
                            "created": CREATED + 50,
                            "usage": USAGE,
                            "model": line["body"]["model"],
                            "id": f"chatcmpl-{rid}",
                            "choices": [{"finish_reason": finish, "index": 0, "message": message}],
                            "object": "chat.completion",
                        },
                    },
                    "error": None,
                }
            )
        out.reverse()  # results are matched by custom_id, never by position
        completed, failed = len(out), len(err)
        batch["request_counts"] = {
            "total": len(self.lines[batch["id"]]),
            "completed": completed,
            "failed": failed,
        }
        batch["output_file_id"] = self._new_file("output.jsonl", out) if out else None
        batch["error_file_id"] = self._new_file("error.jsonl", err) if err else None

    def _list(self, request: Recorded) -> Reply:
        query = dict(
            item.split("=", 1) for item in request.headers.get(":query", "").split("&") if item
        )
        limit = int(query.get("limit", 20))
        newest = list(reversed(self.order))
        if "after" in query and query["after"] in newest:
            newest = newest[newest.index(query["after"]) + 1 :]
        page = [self.batches[b] for b in newest[:limit]]
        if not page:
            return json_reply(fixture("batch_list_empty.json"))  # "data": null
        return json_reply(
            {
                "object": "list",
                "data": page,
                "first_id": page[0]["id"],
                "last_id": page[-1]["id"],
                "has_more": len(newest) > limit,
            }
        )

    def _cancel(self, batch_id: str) -> Reply:
        batch = self.batches.get(batch_id)
        if batch is None:
            return json_reply({"error": {"message": "batch not found"}}, 404)
        if batch["status"] in TERMINAL:
            return json_reply(
                {"error": {"message": f"batch is {batch['status']}", "code": "invalid_status"}},
                400,
            )
        batch["status"] = "cancelling"
        batch["cancelling_at"] = CREATED + 200
        self.steps[batch_id] = ["cancelling", "cancelled"]
        return json_reply(batch)


def install(server: Any) -> FakeBatchService:
    service = FakeBatchService()
    server.handler = service.handle
    return service
