# Item 2: a workspace from an original config.json has string details and can be got by name.
# %%
from azureml.core import Workspace

ws = Workspace.from_config()
print('Workspace name: ' + ws.name,
      'Azure region: ' + ws.location,
      'Subscription id: ' + ws.subscription_id,
      'Resource group: ' + ws.resource_group, sep='\n')
# %%
print(ws.name, ws.resource_group, ws.location, ws.subscription_id, sep='\n')
ws.get_details()
# %%
same = Workspace.get(name=ws.name, subscription_id=ws.subscription_id,
                     resource_group=ws.resource_group)
details = ws.get_details()
# %% check
import json

config = json.load(open("config.json"))
assert ws.name == config["workspace_name"]
assert ws.subscription_id == config["subscription_id"]
assert ws.resource_group == config["resource_group"]
assert ws.location == "local"
assert details["name"] == ws.name and details["location"] == "local"
assert details["id"].startswith(f"/subscriptions/{config['subscription_id']}/resourceGroups/")
assert same.tracking_uri == ws.tracking_uri and same.name == ws.name
