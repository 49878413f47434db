#!/usr/bin/env python3
"""Conformance test: the official Tencent Cloud Python SDK and tccli, unmodified, against
`natpilot sim` (issue 3 "Tests"; reference §7 shows how the clients are pointed at it).

Usage: run.py PATH/TO/natpilot

Starts `natpilot sim` (tutorial scenario) on a free loopback port, walks a whole NAT rollout
through the official clients, checks the auth error codes, and exits non-zero if any check
failed. Each check prints PASS/FAIL with what it saw, so a failure says what differs.
"""

import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import types

from tencentcloud.common import abstract_client, credential
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.cvm.v20170312 import cvm_client
from tencentcloud.cvm.v20170312 import models as cvm_models
from tencentcloud.dnspod.v20210323 import dnspod_client
from tencentcloud.dnspod.v20210323 import models as dnspod_models
from tencentcloud.tat.v20201028 import models as tat_models
from tencentcloud.tat.v20201028 import tat_client
from tencentcloud.vpc.v20170312 import models as vpc_models
from tencentcloud.vpc.v20170312 import vpc_client

SECRET_ID = "AKIDconformance000000000000000000000"
SECRET_KEY = "conformanceSecretKey000000000000"
REGION = "ap-guangzhou"
POLL_SECONDS = 60  # the sim's async steps take ~2 s each by default
TERMINAL_TASK = {"SUCCESS", "FAILED", "TIMEOUT", "TASK_TIMEOUT", "DELIVER_FAILED",
                 "START_FAILED", "CANCELLED", "TERMINATED"}

failures = []


def check(name, ok, detail=""):
    print(("PASS " if ok else "FAIL ") + name + (f": {detail}" if detail else ""), flush=True)
    if not ok:
        failures.append(name)
    return ok


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sim(binary, port):
    """Starts the simulator and waits until it accepts connections (or dies)."""
    args = [binary, "sim", "--listen", f"127.0.0.1:{port}", "--secret-id", SECRET_ID,
            "--secret-key", SECRET_KEY, "--region", REGION, "--scenario", "tutorial", "--async-delay", "1s"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"natpilot sim exited with {proc.returncode}:\n{proc.stdout.read()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit("natpilot sim did not accept connections within 60 s")


class Sdk:
    """The official SDK's typed clients, pointed at the simulator (reference §7.1)."""

    def __init__(self, port, secret_id=SECRET_ID, secret_key=SECRET_KEY):
        profile = ClientProfile(httpProfile=HttpProfile(endpoint=f"127.0.0.1:{port}", protocol="http"))
        cred = credential.Credential(secret_id, secret_key)
        self.vpc = vpc_client.VpcClient(cred, REGION, profile)
        self.cvm = cvm_client.CvmClient(cred, REGION, profile)
        self.tat = tat_client.TatClient(cred, REGION, profile)
        self.dnspod = dnspod_client.DnspodClient(cred, "", profile)
        self.common = CommonClient("vpc", "2017-03-12", cred, REGION, profile)
        self.models = {"vpc": vpc_models, "cvm": cvm_models, "tat": tat_models, "dnspod": dnspod_models}

    def call(self, service, action, params=None):
        """One action through the SDK's own request/response models; returns a dict."""
        request = getattr(self.models[service], action + "Request")()
        request.from_json_string(json.dumps(params or {}))
        response = getattr(getattr(self, service), action)(request)
        return json.loads(response.to_json_string())


def tccli(port, service, action, *args):
    """One action through tccli (reference §7.2: `--endpoint http://HOST:PORT`)."""
    exe = os.path.join(os.path.dirname(sys.executable), "tccli")
    cmd = [exe, service, action, "--endpoint", f"http://127.0.0.1:{port}", "--region", REGION,
           "--secretId", SECRET_ID, "--secretKey", SECRET_KEY, *args]
    with tempfile.TemporaryDirectory() as home:  # no user tccli profile leaks in
        out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "HOME": home})
    if out.returncode != 0:
        raise RuntimeError(f"tccli {service} {action} failed: {out.stdout}{out.stderr}")
    return json.loads(out.stdout)


def poll(what, fetch, done):
    deadline = time.monotonic() + POLL_SECONDS
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: still {value!r} after {POLL_SECONDS} s")
        time.sleep(0.5)


def vpc_filter(vpc_id):
    return [{"Name": "vpc-id", "Values": [vpc_id]}]


def wait_task(sdk, task_id):
    result = poll(f"task {task_id}",
                  lambda: sdk.call("vpc", "DescribeTaskResult", {"TaskId": int(task_id)})["Result"],
                  lambda r: r != "RUNNING")
    return result


def describe(sdk, port):
    """Step 1: the reads the wizard's assessment makes, through the SDK and tccli."""
    vpcs = sdk.call("vpc", "DescribeVpcs", {"Offset": "0", "Limit": "100"})
    vpc = next(v for v in vpcs["VpcSet"] if v["CidrBlock"] == "10.0.0.0/16")
    cli_vpcs = tccli(port, "vpc", "DescribeVpcs", "--Limit", "100")
    check("tccli DescribeVpcs sees the same VPC",
          vpc["VpcId"] in [v["VpcId"] for v in cli_vpcs["VpcSet"]], vpc["VpcId"])
    subnets = sdk.call("vpc", "DescribeSubnets", {"Filters": vpc_filter(vpc["VpcId"]), "Limit": "100"})
    check("DescribeSubnets lists the VPC's subnets", subnets["TotalCount"] >= 1, str(subnets["TotalCount"]))
    tables = sdk.call("vpc", "DescribeRouteTables", {"Filters": vpc_filter(vpc["VpcId"])})
    check("DescribeRouteTables lists the VPC's route tables", tables["TotalCount"] >= 1)
    instances = []
    while True:
        page = sdk.call("cvm", "DescribeInstances",
                        {"Filters": vpc_filter(vpc["VpcId"]), "Offset": len(instances), "Limit": 2})
        instances += page["InstanceSet"]
        if not page["InstanceSet"] or len(instances) >= page["TotalCount"]:
            break
    check("DescribeInstances pages (Limit 2) through every instance", len(instances) == page["TotalCount"],
          f"{len(instances)} of {page['TotalCount']}")
    cli = tccli(port, "cvm", "DescribeInstances", "--Filters", json.dumps(vpc_filter(vpc["VpcId"])))
    check("tccli DescribeInstances agrees on the count", cli["TotalCount"] == len(instances))
    eips = sdk.call("vpc", "DescribeAddresses", {"Limit": 100})["AddressSet"]
    wan = sdk.call("vpc", "DescribeAddresses",
                   {"Filters": [{"Name": "address-type", "Values": ["WanIP"]}], "Limit": 100})["AddressSet"]
    check("DescribeAddresses separates EIPs from ordinary public IPs (address-type=WanIP)",
          eips and wan and not {a["AddressIp"] for a in eips} & {a["AddressIp"] for a in wan},
          f"{len(eips)} EIPs, {len(wan)} WanIPs")
    agents = sdk.call("tat", "DescribeAutomationAgentStatus",
                      {"InstanceIds": [i["InstanceId"] for i in instances], "Limit": 100})
    quota = sdk.call("vpc", "DescribeAddressQuota")
    check("DescribeAddressQuota reports TOTAL_EIP_QUOTA",
          any(q["QuotaId"] == "TOTAL_EIP_QUOTA" for q in quota["QuotaSet"]))
    return vpc, subnets["SubnetSet"], tables["RouteTableSet"], instances, eips, wan, agents


def create_nat(sdk, vpc):
    """Step 2: create a NAT gateway with one new EIP and wait for AVAILABLE."""
    created = sdk.call("vpc", "CreateNatGateway", {
        "NatGatewayName": "conformance-nat", "VpcId": vpc["VpcId"], "InternetMaxBandwidthOut": 100,
        "MaxConcurrentConnection": 1000000, "AddressCount": 1,
        "Tags": [{"Key": "natpilot-run", "Value": "conformance"}]})
    nat_id = created["NatGatewaySet"][0]["NatGatewayId"]
    nat = poll("NAT gateway state",
               lambda: sdk.call("vpc", "DescribeNatGateways", {"NatGatewayIds": [nat_id]})["NatGatewaySet"][0],
               lambda n: n["State"] in ("AVAILABLE", "PENDFAILURE"))
    nat_ips = [a["PublicIpAddress"] for a in nat["PublicIpAddressSet"] or []]
    check("CreateNatGateway reaches AVAILABLE with one EIP", nat["State"] == "AVAILABLE" and len(nat_ips) == 1,
          f"{nat['State']} {nat_ips}")
    tagged = sdk.call("vpc", "DescribeNatGateways",
                      {"Filters": [{"Name": "tag:natpilot-run", "Values": ["conformance"]}]})
    check("DescribeNatGateways finds the gateway by its tag",
          [n["NatGatewayId"] for n in tagged["NatGatewaySet"]] == [nat_id])
    return nat_id, nat_ips


def route_to_nat(sdk, table, nat_id):
    """Step 3: 0.0.0.0/0 -> NAT, replacing an existing default route (reference §4.4)."""
    route = {"DestinationCidrBlock": "0.0.0.0/0", "GatewayType": "NAT", "GatewayId": nat_id,
             "RouteDescription": "conformance"}
    existing = [r for r in table["RouteSet"] if r["DestinationCidrBlock"] == "0.0.0.0/0"]
    if existing:
        sdk.call("vpc", "ReplaceRoutes", {"RouteTableId": table["RouteTableId"],
                                          "Routes": [{**route, "RouteId": existing[0]["RouteId"]}]})
    else:
        sdk.call("vpc", "CreateRoutes", {"RouteTableId": table["RouteTableId"], "Routes": [route]})
    after = sdk.call("vpc", "DescribeRouteTables", {"RouteTableIds": [table["RouteTableId"]]})
    routes = after["RouteTableSet"][0]["RouteSet"]
    check("the route table now sends 0.0.0.0/0 to the NAT gateway",
          any(r["DestinationCidrBlock"] == "0.0.0.0/0" and r["GatewayId"] == nat_id for r in routes))


def egress(sdk, port, instance_id):
    """What `curl -s ifconfig.co` prints on the instance, through TAT (reference §4.26, §4.28)."""
    run = sdk.call("tat", "RunCommand", {
        "Content": base64.b64encode(b"curl -s ifconfig.co").decode(), "InstanceIds": [instance_id],
        "CommandType": "SHELL", "Timeout": 60, "CommandName": "natpilot-egress-check"})
    task = poll("TAT task", lambda: sdk.call("tat", "DescribeInvocationTasks", {
        "Filters": [{"Name": "invocation-id", "Values": [run["InvocationId"]]}],
        "HideOutput": False})["InvocationTaskSet"][0], lambda t: t["TaskStatus"] in TERMINAL_TASK)
    cli = tccli(port, "tat", "DescribeInvocations", "--InvocationIds", json.dumps([run["InvocationId"]]))
    check("tccli DescribeInvocations reports the finished invocation",
          cli["InvocationSet"][0]["InvocationStatus"] == "SUCCESS", cli["InvocationSet"][0]["InvocationStatus"])
    return base64.b64decode(task["TaskResult"]["Output"] or "").decode().strip(), task


def snat(sdk, port, nat_id, target):
    """Issue 12: an SNAT rule pins one instance to one EIP of the gateway (addendum 2 §2-§4).
    The rule is created through the SDK, found again by its description through tccli (Create
    answers no id), moved with Modify, and deleted through tccli."""
    enis = tccli(port, "vpc", "DescribeNetworkInterfaces", "--Filters",
                 json.dumps([{"Name": "attachment.instance-id", "Values": [target["InstanceId"]]}]))
    eni = enis["NetworkInterfaceSet"][0]
    private_ip = next(p["PrivateIpAddress"] for p in eni["PrivateIpAddressSet"] if p["Primary"])
    check("tccli DescribeNetworkInterfaces names the instance's primary private IP",
          eni["Primary"] and private_ip in target["PrivateIpAddresses"], private_ip)
    sdk.call("vpc", "AssociateNatGatewayAddress", {"NatGatewayId": nat_id, "AddressCount": 1})
    nat = sdk.call("vpc", "DescribeNatGateways", {"NatGatewayIds": [nat_id]})["NatGatewaySet"][0]
    ips = [a["PublicIpAddress"] for a in nat["PublicIpAddressSet"]]
    check("AssociateNatGatewayAddress adds a second EIP to the gateway", len(ips) == 2, repr(ips))
    current, _ = egress(sdk, port, target["InstanceId"])
    other = next(ip for ip in ips if ip != current)
    rule = {"ResourceId": target["InstanceId"], "ResourceType": "NETWORKINTERFACE",
            "PrivateIpAddress": private_ip, "PublicIpAddresses": [other],
            "Description": "natpilot conformance"}
    created = sdk.call("vpc", "CreateNatGatewaySourceIpTranslationNatRule",
                       {"NatGatewayId": nat_id, "SourceIpTranslationNatRules": [rule]})
    check("CreateNatGatewaySourceIpTranslationNatRule answers only a RequestId",
          set(created) == {"RequestId"}, repr(created))
    found = tccli(port, "vpc", "DescribeNatGatewaySourceIpTranslationNatRules", "--NatGatewayId", nat_id,
                  "--Filters", json.dumps([{"Name": "description", "Values": ["natpilot conformance"]}]))
    rules = found["SourceIpTranslationNatRuleSet"]
    check("tccli finds the new rule by its description, with its snat- id",
          len(rules) == 1 and rules[0]["NatGatewaySnatId"].startswith("snat-"), repr(rules))
    pinned, _ = egress(sdk, port, target["InstanceId"])
    check("with the rule, the instance leaves through the rule's EIP", pinned == other,
          f"{pinned!r}, rule EIP {other!r}")
    snat_id = rules[0]["NatGatewaySnatId"]
    sdk.call("vpc", "ModifyNatGatewaySourceIpTranslationNatRule", {
        "NatGatewayId": nat_id, "SourceIpTranslationNatRule": {**rule, "NatGatewaySnatId": snat_id,
                                                               "PublicIpAddresses": [current]}})
    moved, _ = egress(sdk, port, target["InstanceId"])
    check("ModifyNatGatewaySourceIpTranslationNatRule moves the instance to the other EIP", moved == current,
          f"{moved!r}, expected {current!r}")
    expect_error("a rule naming an address that is not the gateway's is refused",
                 "UnsupportedOperation.NatGatewayEipNotExists",
                 lambda: sdk.call("vpc", "CreateNatGatewaySourceIpTranslationNatRule", {
                     "NatGatewayId": nat_id,
                     "SourceIpTranslationNatRules": [{**rule, "PublicIpAddresses": ["203.0.113.9"]}]}))
    tccli(port, "vpc", "DeleteNatGatewaySourceIpTranslationNatRule", "--NatGatewayId", nat_id,
          "--NatGatewaySnatIds", json.dumps([snat_id]))
    left = sdk.call("vpc", "DescribeNatGatewaySourceIpTranslationNatRules", {"NatGatewayId": nat_id})
    check("tccli DeleteNatGatewaySourceIpTranslationNatRule removes the rule", left["TotalCount"] == 0,
          repr(left["SourceIpTranslationNatRuleSet"]))


def retire(sdk, instances, eips, wan):
    """Step 4: unbind a CVM's EIP, transform one ordinary IP into an EIP, return another."""
    bound = next(a for a in eips if (a.get("InstanceId") or "").startswith("ins-"))
    task = sdk.call("vpc", "DisassociateAddress", {"AddressId": bound["AddressId"]})["TaskId"]
    check("DisassociateAddress returns its TaskId as a string", isinstance(task, str), repr(task))
    check("the unbind task succeeds", wait_task(sdk, task) == "SUCCESS")
    status = sdk.call("vpc", "DescribeAddresses", {"AddressIds": [bound["AddressId"]]})["AddressSet"][0]
    check("the unbound EIP is UNBIND, not released", status["AddressStatus"] == "UNBIND", status["AddressStatus"])

    ordinary = [a for a in wan if a.get("InstanceId")]
    transformed = sdk.call("vpc", "TransformAddress", {"InstanceId": ordinary[0]["InstanceId"]})
    check("TransformAddress returns an integer TaskId", isinstance(transformed["TaskId"], int),
          repr(transformed["TaskId"]))
    check("the transform task succeeds", wait_task(sdk, transformed["TaskId"]) == "SUCCESS")
    now = sdk.call("vpc", "DescribeAddresses", {"AddressIds": [transformed["AddressId"]]})["AddressSet"][0]
    check("the transformed IP is now a bound EIP with the same address",
          now["AddressIp"] == ordinary[0]["AddressIp"] and now["AddressStatus"] == "BIND",
          f"{now['AddressIp']} {now['AddressStatus']}")

    returned = ordinary[1]
    sdk.call("vpc", "ReturnNormalAddresses", {"AddressIps": [returned["AddressIp"]]})
    poll("ordinary IP return", lambda: sdk.call("cvm", "DescribeInstances",
                                                {"InstanceIds": [returned["InstanceId"]]})["InstanceSet"][0],
         lambda i: returned["AddressIp"] not in (i["PublicIpAddresses"] or []))
    check("ReturnNormalAddresses removes the instance's ordinary public IP", True, returned["AddressIp"])


def dns(sdk):
    """The DNS records pointing into the VPC: an A record's value found again by exact filter."""
    domains = sdk.call("dnspod", "DescribeDomainList")["DomainList"]
    check("DescribeDomainList lists the tutorial domain", len(domains) >= 1)
    name = domains[0]["Name"]
    records = sdk.call("dnspod", "DescribeRecordList", {"Domain": name, "ErrorOnEmpty": "no"})["RecordList"]
    ip = next(r["Value"] for r in records if r["Type"] == "A")
    filtered = sdk.call("dnspod", "DescribeRecordFilterList",
                        {"Domain": name, "RecordValue": ip, "RecordType": ["A"]})["RecordList"]
    expected = [r["RecordId"] for r in records if r["Type"] == "A" and r["Value"] == ip]
    check("DescribeRecordFilterList finds exactly the A records on an IP",
          sorted(r["RecordId"] for r in filtered) == sorted(expected), f"{ip}: {len(filtered)} records")


def expect_error(name, code, call):
    try:
        call()
        check(name, False, "no error raised")
    except TencentCloudSDKException as e:
        check(name, e.get_code() == code and bool(e.get_request_id()), f"{e.get_code()}: {e.get_message()}")


def auth(_binary, port):
    expect_error("a wrong SecretKey raises AuthFailure.SignatureFailure", "AuthFailure.SignatureFailure",
                 lambda: Sdk(port, secret_key="not-the-key").call("vpc", "DescribeVpcs"))
    expect_error("an unknown SecretId raises AuthFailure.SecretIdNotFound", "AuthFailure.SecretIdNotFound",
                 lambda: Sdk(port, secret_id="AKIDunknown00000000000000000000000").call("vpc", "DescribeVpcs"))
    real_time = abstract_client.time
    abstract_client.time = types.SimpleNamespace(time=lambda: real_time.time() - 600)
    try:  # the SDK signs with its module's clock: ten minutes slow is outside the 5-minute window
        expect_error("a ten-minute-old timestamp raises AuthFailure.SignatureExpire", "AuthFailure.SignatureExpire",
                     lambda: Sdk(port).call("vpc", "DescribeVpcs"))
    finally:
        abstract_client.time = real_time
    expect_error("an undocumented parameter raises UnknownParameter", "UnknownParameter",
                 lambda: Sdk(port).common.call_json("DescribeVpcs", {"VpcIdz": ["vpc-1"]}))
    expect_error("an unknown action raises InvalidAction", "InvalidAction",
                 lambda: Sdk(port).common.call_json("DescribeTeapots", {}))


def snapshot(binary, port, vpc_id):
    """`natpilot snapshot` through its CLI against the same simulator: a loadable scenario file."""
    with tempfile.TemporaryDirectory() as home:
        out = os.path.join(home, "vpc.json")
        env = {**os.environ, "HOME": home, "TENCENTCLOUD_SECRET_ID": SECRET_ID,
               "TENCENTCLOUD_SECRET_KEY": SECRET_KEY}
        run = subprocess.run([binary, "snapshot", "--region", REGION, "--vpc", vpc_id, "--out", out,
                              "--endpoint", f"http://127.0.0.1:{port}"],
                             capture_output=True, text=True, env=env, cwd=home)
        if not check("natpilot snapshot exits 0", run.returncode == 0, run.stdout + run.stderr):
            return
        with open(out) as f:
            scenario = json.load(f)
    check("the snapshot holds the VPC, its instances and the new NAT gateway",
          [v["id"] for v in scenario["vpcs"]] == [vpc_id] and len(scenario["instances"]) == 7
          and len(scenario["nat_gateways"]) == 1,
          f"{len(scenario['instances'])} instances, {len(scenario['nat_gateways'])} NAT gateways")


def rollout(binary, port):
    sdk = Sdk(port)
    vpc, subnets, tables, instances, eips, wan, agents = describe(sdk, port)
    online = {a["InstanceId"] for a in agents["AutomationAgentSet"] if a["AgentStatus"] == "Online"}
    target = next(i for i in instances if i["InstanceId"] in online and i["InstanceState"] == "RUNNING")
    before, _ = egress(sdk, port, target["InstanceId"])
    nat_id, nat_ips = create_nat(sdk, vpc)
    subnet = next(s for s in subnets if s["SubnetId"] == target["VirtualPrivateCloud"]["SubnetId"])
    table = next(t for t in tables if t["RouteTableId"] == subnet["RouteTableId"])
    route_to_nat(sdk, table, nat_id)
    after, task = egress(sdk, port, target["InstanceId"])
    check("after the route, curl -s ifconfig.co prints a NAT EIP", after in nat_ips,
          f"before {before!r}, after {after!r}, NAT EIPs {nat_ips}, exit {task['TaskResult']['ExitCode']}")
    snat(sdk, port, nat_id, target)
    dns(sdk)
    retire(sdk, instances, eips, wan)
    snapshot(binary, port, vpc["VpcId"])


# Tencent's common error codes (reference §1.11, "Common error codes"): every service answers
# them, so the SDK's per-service errorcodes.py files do not list them all.
COMMON_CODES = {
    "AuthFailure.InvalidAuthorization", "AuthFailure.InvalidSecretId", "AuthFailure.MFAFailure",
    "AuthFailure.SecretIdNotFound", "AuthFailure.SignatureExpire", "AuthFailure.SignatureFailure",
    "AuthFailure.TokenFailure", "AuthFailure.UnauthorizedOperation", "DryRunOperation",
    "FailedOperation", "InternalError", "InvalidAction", "InvalidParameter",
    "InvalidParameterValue", "InvalidRequest", "IpInBlacklist", "IpNotInWhitelist",
    "LimitExceeded", "MissingParameter", "NoSuchProduct", "NoSuchVersion",
    "RequestLimitExceeded", "RequestLimitExceeded.GlobalRegionUinLimitExceeded",
    "RequestLimitExceeded.IPLimitExceeded", "RequestLimitExceeded.UinLimitExceeded",
    "RequestSizeLimitExceeded", "ResourceInUse", "ResourceInsufficient", "ResourceNotFound",
    "ResourceUnavailable", "ResponseSizeLimitExceeded", "ServiceUnavailable",
    "UnauthorizedOperation", "UnknownParameter", "UnsupportedOperation", "UnsupportedProtocol",
    "UnsupportedRegion",
}
# The services the simulator stands in for, as the SDK names its packages.
SIMULATED_SERVICES = ("vpc", "cvm", "tat", "dnspod", "sts", "region")
CODE_FAMILIES = (
    "AuthFailure|DryRunOperation|FailedOperation|InternalError|InvalidAction|InvalidParameter"
    "|InvalidParameterValue|InvalidRequest|LimitExceeded|MissingParameter|NoSuchVersion"
    "|OperationDenied|RequestLimitExceeded|ResourceInUse|ResourceInsufficient|ResourceNotFound"
    "|ResourceUnavailable|UnauthorizedOperation|UnknownParameter|UnsupportedOperation"
    "|UnsupportedProtocol|UnsupportedRegion"
)


def error_codes(_binary, _port):
    """Every error code the simulator can answer is one the official SDK knows for the
    services it simulates (their errorcodes.py), or one of Tencent's common codes: a code
    made up in the simulator would teach natpilot to handle an error Tencent never sends."""
    import glob
    import re
    import tencentcloud

    sdk = os.path.dirname(tencentcloud.__file__)
    known = set(COMMON_CODES)
    for service in SIMULATED_SERVICES:
        for path in glob.glob(os.path.join(sdk, service, "v*", "errorcodes.py")):
            with open(path) as f:
                known.update(re.findall(r"=\s*['\"]([A-Za-z0-9.]+)['\"]", f.read()))
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    literal = re.compile(r'"((?:' + CODE_FAMILIES + r')(?:\.[A-Za-z0-9]+)*)"')
    used = {}
    for path in glob.glob(os.path.join(repo, "src", "sim", "**", "*.rs"), recursive=True):
        with open(path) as f:
            for code in literal.findall(f.read()):
                used.setdefault(code, os.path.relpath(path, repo))
    check("the simulator answers error codes (found in its source)", len(used) >= 20,
          f"{len(used)} codes")
    unknown = {code: path for code, path in sorted(used.items()) if code not in known}
    check("every simulator error code is in the official SDK or Tencent's common codes",
          not unknown, ", ".join(f"{c} ({p})" for c, p in unknown.items()) or
          f"all {len(used)} known")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: run.py PATH/TO/natpilot")
    port = free_port()
    # Absolute, because some checks run tccli/natpilot from a scratch HOME directory.
    sys.argv[1] = os.path.abspath(sys.argv[1])
    sim = start_sim(sys.argv[1], port)
    try:
        for part in (error_codes, auth, rollout):
            try:
                part(sys.argv[1], port)
            except Exception as e:  # one broken step must not hide the others' results
                check(f"{part.__name__} ran to the end", False, f"{type(e).__name__}: {e}")
    finally:
        sim.terminate()
        try:
            sim.wait(timeout=10)
        except subprocess.TimeoutExpired:
            sim.kill()
    print(f"\n{len(failures)} check(s) failed" if failures else "\nall conformance checks passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
