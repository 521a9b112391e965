"""A network's layers as a table the layer-by-layer tests compare whole."""


def layer_table(network):
    """(layer type, output shape without batch, parameter count) for every layer after the input."""
    return [(type(layer).__name__, tuple(layer.output.shape[1:]), layer.count_params())
            for layer in network.layers[1:]]
