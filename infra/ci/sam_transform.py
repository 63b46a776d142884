"""Transforms template.yaml with aws-sam-translator, as CloudFormation's
AWS::Serverless transform would, so cfn-lint checks the resources SAM makes
(roles and their policies included), which `cfn-lint template.yaml` does not
fully check. Usage: sam_transform.py template.yaml out.json"""
import json
import os
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class ManagedPolicies:
    """No AWS call: the template names no managed policy by name."""

    def load(self):
        return {}


os.environ.setdefault("AWS_DEFAULT_REGION", "ca-central-1")
with open(sys.argv[1]) as f:
    tpl = yaml_parse(f.read())
# sam build uploads each CodeUri; the transform wants an S3 URI in its place.
for name, r in tpl["Resources"].items():
    if r.get("Type") == "AWS::Serverless::Function":
        r["Properties"]["CodeUri"] = "s3://haven-artifacts/%s.zip" % name
with open(sys.argv[2], "w") as f:
    json.dump(transform(tpl, {}, ManagedPolicies()), f, indent=1)
