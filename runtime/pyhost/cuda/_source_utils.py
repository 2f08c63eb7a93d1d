"""Small helpers on a kernel's source that the lowerings (``_builtins.py``) and the rewrites
(``_blocks.py``, ``_grid.py``, ``_uniform.py``) share. A leaf: it imports no other module of
``pyhost.cuda``."""
import ast

# the variables of a block's thread loops (_blocks.py), read by threadIdx & co. in block mode
TX = ("_ph_tx", "_ph_ty", "_ph_tz")


def _resolve(src, node):
    """The Python object a name or attribute chain of the kernel's source stands for (its
    closure, then its globals, then the builtins), or None."""
    if isinstance(node, ast.Name):
        if node.id in src.closure:
            return src.closure[node.id]
        return src.globals.get(node.id, getattr(__builtins__, node.id, None)
                               if not isinstance(__builtins__, dict)
                               else __builtins__.get(node.id))
    if isinstance(node, ast.Attribute):
        base = _resolve(src, node.value)
        return getattr(base, node.attr, None) if base is not None else None
    return None
