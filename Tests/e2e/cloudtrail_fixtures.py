"""CloudTrail records of event source mapping calls for the import tests.

Built on the AWS documentation's samples (the console CreateEventSourceMapping20150331 record of
the Lambda Developer Guide's "Encryption of filter criteria" section, and the refused-call record of
"Logging AWS Lambda API calls using AWS CloudTrail"), with their placeholder UUIDs made to agree
with the ARNs, and hand-written records of the other kinds in the same shape. Members AWS does not
send are not invented; where the shape is not published (UntagResource's key list, a full
LambdaESMDisabled record) the fixture follows docs/log-format.md's reading, marked there."""
import copy
import gzip
import json
import os

ACCOUNT, ORG_MEMBER = "123456789012", "210987654321"
UUID_A = "a1b2c3d4-5678-90ab-cdef-0000000000aa"
UUID_B = "b1b2c3d4-5678-90ab-cdef-0000000000bb"
ARN_A = f"arn:aws:lambda:us-east-2:{ACCOUNT}:event-source-mapping:{UUID_A}"
ARN_B = f"arn:aws:lambda:eu-west-1:{ORG_MEMBER}:event-source-mapping:{UUID_B}"
QUEUE = f"arn:aws:sqs:us-east-2:{ACCOUNT}:example-queue"
KMS = f"arn:aws:kms:us-east-2:{ACCOUNT}:key/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"

CONSOLE_ROLE = {
    "type": "AssumedRole", "principalId": "AROA123456789EXAMPLE:userid1",
    "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Example/example-role", "accountId": ACCOUNT,
    "accessKeyId": "ASIAIOSFODNN7EXAMPLE",
    "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROA987654321EXAMPLE",
                                         "arn": f"arn:aws:iam::{ACCOUNT}:role/User1", "accountId": ACCOUNT, "userName": "User1"},
                       "webIdFederationData": {}, "attributes": {"creationDate": "2024-05-09T20:35:01Z", "mfaAuthenticated": "false"}},
    "invokedBy": "AWS Internal",
}
CLI_USER = {"type": "IAMUser", "principalId": "AIDAEXAMPLEALICE", "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
            "accountId": ACCOUNT, "accessKeyId": "AKIAIOSFODNN7EXAMPLE", "userName": "alice"}
MALLORY = {"type": "IAMUser", "principalId": "AIDAEXAMPLEMALLORY", "arn": f"arn:aws:iam::{ACCOUNT}:user/mallory",
           "accountId": ACCOUNT, "accessKeyId": "AKIAMALLORYEXAMPLE", "userName": "mallory"}
CLI_AGENT = "aws-cli/2.17.0 md/awscrt#0.20.11 ua/2.0 os/linux#6.1 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#debian.12 md/prompt#off md/command#lambda.update-event-source-mapping"


def envelope(name, time, event_id, identity, request, response, region="us-east-2", account=ACCOUNT, **extra):
    r = {"eventVersion": "1.08", "userIdentity": identity, "eventTime": time, "eventSource": "lambda.amazonaws.com",
         "eventName": name, "awsRegion": region, "sourceIPAddress": extra.pop("ip", "198.51.100.7"),
         "userAgent": extra.pop("agent", CLI_AGENT), "requestParameters": request, "responseElements": response,
         "requestID": event_id.replace("e", "f"), "eventID": event_id, "readOnly": False, "eventType": "AwsApiCall",
         "managementEvent": True, "recipientAccountId": account, "eventCategory": "Management"}
    r.update(extra)
    return r


def mapping(state, last_modified, batch=10, filters=None, uuid=UUID_A, arn=ARN_A, source=QUEUE, function="example-function",
            region="us-east-2", account=ACCOUNT):
    m = {"uUID": uuid, "batchSize": batch, "maximumBatchingWindowInSeconds": 0, "eventSourceArn": source,
         "functionArn": f"arn:aws:lambda:{region}:{account}:function:{function}", "lastModified": last_modified, "state": state,
         "stateTransitionReason": "USER_INITIATED", "functionResponseTypes": [], "eventSourceMappingArn": arn}
    if filters is not None:
        m["filterCriteria"] = filters
    return m


PATTERN = {"filters": [{"pattern": '{"body": {"kind": ["order"]}}'}]}

# Mapping A in account 123456789012, us-east-2: created in the console with a plaintext filter
# (before CloudTrail hid filters), updated from the CLI, a refused update, tagged, untagged, the
# filter changed after 2024-08-06 (shown as {}), disabled by Lambda, deleted.
CREATE = envelope("CreateEventSourceMapping20150331", "2024-05-09T21:05:41Z", "e0000000-0000-4000-8000-000000000001", CONSOLE_ROLE,
                  {"eventSourceArn": QUEUE, "functionName": "example-function", "enabled": True, "batchSize": 10,
                   "filterCriteria": PATTERN, "kMSKeyArn": KMS, "scalingConfig": {}, "maximumBatchingWindowInSeconds": 0,
                   "sourceAccessConfigurations": [], "tags": {"team": "payments"}},
                  dict(mapping("Creating", "May 9, 2024, 9:05:41 PM", filters=PATTERN), kMSKeyArn=KMS),
                  ip="AWS Internal", agent="AWS Internal", sessionCredentialFromConsole="true")
UPDATE = envelope("UpdateEventSourceMapping20150331", "2024-06-01T08:00:00Z", "e0000000-0000-4000-8000-000000000002", CLI_USER,
                  {"uUID": UUID_A, "batchSize": 5},
                  dict(mapping("Updating", "Jun 1, 2024, 8:00:00 AM", batch=5, filters=PATTERN), kMSKeyArn=KMS))
REFUSED = envelope("UpdateEventSourceMapping20150331", "2024-06-02T09:30:00Z", "e0000000-0000-4000-8000-000000000003", MALLORY,
                   {"uUID": UUID_A, "batchSize": 1000}, None, errorCode="AccessDenied",
                   errorMessage=f"User: arn:aws:iam::{ACCOUNT}:user/mallory is not authorized to perform: lambda:UpdateEventSourceMapping on resource: {ARN_A} because no identity-based policy allows the lambda:UpdateEventSourceMapping action")
TAG = envelope("TagResource20170331v2", "2024-06-03T10:00:00Z", "e0000000-0000-4000-8000-000000000004", CLI_USER,
               {"resource": ARN_A, "tags": {"owner": "checkout"}}, None)
UNTAG = envelope("UntagResource20170331v2", "2024-06-04T10:00:00Z", "e0000000-0000-4000-8000-000000000005", CLI_USER,
                 {"resource": ARN_A, "tagKeys": ["team"]}, None)
REDACTED_UPDATE = envelope("UpdateEventSourceMapping20150331", "2024-09-10T12:00:00Z", "e0000000-0000-4000-8000-000000000006", CLI_USER,
                           {"uUID": UUID_A, "filterCriteria": {}},
                           dict(mapping("Updating", "Sep 10, 2024, 12:00:00 PM", batch=5, filters={}), kMSKeyArn=KMS))
DISABLED = {"eventVersion": "1.08", "userIdentity": {"type": "AWSService", "invokedBy": "lambda.amazonaws.com"},
            "eventTime": "2024-09-20T03:00:00Z", "eventSource": "lambda.amazonaws.com", "eventName": "LambdaESMDisabled",
            "awsRegion": "us-east-2", "sourceIPAddress": "lambda.amazonaws.com", "userAgent": "lambda.amazonaws.com",
            "requestParameters": None, "responseElements": None, "eventID": "e0000000-0000-4000-8000-000000000007",
            "readOnly": False, "resources": [{"accountId": ACCOUNT, "type": "AWS::Lambda::EventSourceMapping", "ARN": ARN_A}],
            "eventType": "AwsServiceEvent", "managementEvent": False, "recipientAccountId": ACCOUNT,
            "serviceEventDetails": {"ESMDisableReason": "Lambda Function not found"}, "eventCategory": "Data"}
DELETE = envelope("DeleteEventSourceMapping", "2024-09-21T00:00:00Z", "e0000000-0000-4000-8000-000000000008", CLI_USER,
                  {"uUID": UUID_A}, dict(mapping("Deleting", "Sep 21, 2024, 12:00:00 AM", batch=5, filters={}), kMSKeyArn=KMS))

# Mapping B in a member account of an organization, eu-west-1.
B_ROLE = {"type": "AssumedRole", "principalId": "AROAB:deploy", "arn": f"arn:aws:sts::{ORG_MEMBER}:assumed-role/Deploy/ci",
          "accountId": ORG_MEMBER, "accessKeyId": "ASIABEXAMPLE",
          "sessionContext": {"sessionIssuer": {"type": "Role", "arn": f"arn:aws:iam::{ORG_MEMBER}:role/Deploy", "accountId": ORG_MEMBER}},
          "invokedBy": "cloudformation.amazonaws.com"}
CREATE_B = envelope("CreateEventSourceMapping20150331", "2024-07-01T00:00:00Z", "e0000000-0000-4000-8000-00000000000b", B_ROLE,
                    {"eventSourceArn": f"arn:aws:sqs:eu-west-1:{ORG_MEMBER}:jobs", "functionName": "jobs", "batchSize": 10},
                    mapping("Creating", "Jul 1, 2024, 12:00:00 AM", uuid=UUID_B, arn=ARN_B,
                            source=f"arn:aws:sqs:eu-west-1:{ORG_MEMBER}:jobs", function="jobs", region="eu-west-1", account=ORG_MEMBER),
                    region="eu-west-1", account=ORG_MEMBER, ip="cloudformation.amazonaws.com", agent="cloudformation.amazonaws.com")

# Records that are not mapping writes: another service, Lambda reads, a function tag.
OTHER = [
    {"eventVersion": "1.08", "eventTime": "2024-06-01T08:00:01Z", "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
     "awsRegion": "us-east-2", "eventID": "f0000000-0000-4000-8000-000000000001", "userIdentity": CLI_USER, "eventType": "AwsApiCall",
     "requestParameters": {"bucketName": "b", "key": "k"}, "responseElements": None, "readOnly": True, "recipientAccountId": ACCOUNT},
    envelope("ListEventSourceMappings20150331", "2024-06-01T08:00:02Z", "f0000000-0000-4000-8000-000000000002", CLI_USER, {}, None,
             readOnly=True),
    envelope("GetFunction20150331v2", "2024-06-01T08:00:03Z", "f0000000-0000-4000-8000-000000000003", CLI_USER,
             {"functionName": "example-function"}, None, readOnly=True),
    envelope("TagResource20170331v2", "2024-06-01T08:00:04Z", "f0000000-0000-4000-8000-000000000004", CLI_USER,
             {"resource": f"arn:aws:lambda:us-east-2:{ACCOUNT}:function:example-function", "tags": {"a": "b"}}, None),
]

MAPPING_RECORDS = [CREATE, UPDATE, REFUSED, TAG, UNTAG, REDACTED_UPDATE, DISABLED, DELETE, CREATE_B]
ALL = MAPPING_RECORDS + OTHER


def trail_key(account, region, stamp, suffix, org=None):
    y, m, d = stamp[:4], stamp[4:6], stamp[6:8]
    base = f"AWSLogs/{org + '/' if org else ''}{account}/CloudTrail/{region}/{y}/{m}/{d}"
    return f"{base}/{account}_CloudTrail_{region}_{stamp}_{suffix}.json.gz"


def write_trail(root, key, records):
    path = os.path.join(root, key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with gzip.open(path, "wt") as f:
        json.dump({"Records": records}, f)
    return path


def write_bucket(root):
    """An account trail and an organization trail as `aws s3 sync` leaves them; the org trail holds
    some of the same records (same eventIDs) and the member account's."""
    write_trail(root, trail_key(ACCOUNT, "us-east-2", "20240509T2110Z", "a1b2c3d4e5f6a7b8"), [CREATE, OTHER[0]])
    write_trail(root, trail_key(ACCOUNT, "us-east-2", "20240601T0805Z", "b1b2c3d4e5f6a7b8"), [UPDATE, OTHER[1], OTHER[2], REFUSED])
    write_trail(root, trail_key(ACCOUNT, "us-east-2", "20240603T1005Z", "c1b2c3d4e5f6a7b8"), [TAG, UNTAG, OTHER[3]])
    write_trail(root, trail_key(ACCOUNT, "us-east-2", "20240921T0005Z", "d1b2c3d4e5f6a7b8"), [DELETE, REDACTED_UPDATE, DISABLED])
    write_trail(root, trail_key(ACCOUNT, "us-east-2", "20240601T0805Z", "e1b2c3d4e5f6a7b8", org="o-exampleorgid"), [UPDATE, CREATE])
    write_trail(root, trail_key(ORG_MEMBER, "eu-west-1", "20240701T0005Z", "f1b2c3d4e5f6a7b8", org="o-exampleorgid"), [CREATE_B])


def lookup_events_pages(records, v2=False, page=3):
    """`aws cloudtrail lookup-events` output, newest first, pages written one after another."""
    import datetime
    events = []
    for r in sorted(records, key=lambda r: r["eventTime"], reverse=True):
        t = datetime.datetime.strptime(r["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
        events.append({"EventId": r["eventID"], "EventName": r["eventName"], "ReadOnly": str(r.get("readOnly", False)).lower(),
                       "EventTime": t.isoformat() if v2 else t.timestamp(), "EventSource": r["eventSource"],
                       "Username": r.get("userIdentity", {}).get("userName", ""), "Resources": [],
                       "CloudTrailEvent": json.dumps(r)})
    pages = [events[i:i + page] for i in range(0, len(events), page)]
    return "\n".join(json.dumps({"Events": p, "NextToken": f"token{i}"} if i + 1 < len(pages) else {"Events": p}, indent=4)
                     for i, p in enumerate(pages))


def eventbridge_lines(records):
    return "".join(json.dumps({"version": "0", "id": r["eventID"], "detail-type": "AWS API Call via CloudTrail",
                               "source": "aws.lambda", "account": r.get("recipientAccountId", ACCOUNT), "time": r["eventTime"],
                               "region": r["awsRegion"], "resources": [], "detail": r}) + "\n" for r in records)


def athena_lines(records):
    rows = []
    for r in records:
        row = {k.lower(): (json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in r.items()}
        rows.append(json.dumps(row) + "\n")
    return "".join(rows)


def copies():
    return copy.deepcopy(ALL)
