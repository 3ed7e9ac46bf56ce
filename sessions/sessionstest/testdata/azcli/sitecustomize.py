# Works around a bug of Debian's azure-cli 2.45 (Azure/azure-cli #24959,
# #26896): its role commands read `client.config.subscription_id`, but the
# azure-mgmt-authorization Debian ships names that attribute `_config`, so
# every `az role` command crashes with "'RoleAssignmentsOperations' object
# has no attribute 'config'" before it sends a request. The end-to-end test
# puts this directory on PYTHONPATH; when the CLI imports its role module,
# this hook loads the module's own source with that one attribute renamed.
# Nothing else changes, and nothing is sent differently.
import importlib.abc
import importlib.machinery
import sys

_TARGET = "azure.cli.command_modules.role.custom"


class _Loader(importlib.machinery.SourceFileLoader):
    def get_data(self, path):
        data = super().get_data(path)
        if path.endswith(".py"):
            data = data.replace(b".config.subscription_id", b"._config.subscription_id")
        return data

    def path_stats(self, path):
        raise OSError("no bytecode cache for the patched module")


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != _TARGET:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or not spec.origin or not spec.origin.endswith(".py"):
            return None
        spec.loader = _Loader(name, spec.origin)
        spec.cached = None
        return spec


sys.meta_path.insert(0, _Finder())
