#pragma once
// Every model header: the conditioning encoders, the VAE and the video UNet
// with its presets.

#include "vgt/models/content_encoder.hpp"
#include "vgt/models/structure_map.hpp"
#include "vgt/models/text_encoder.hpp"
#include "vgt/models/timestep_embedding.hpp"
#include "vgt/models/tokenizer.hpp"
#include "vgt/models/unet_blocks.hpp"
#include "vgt/models/unet_presets.hpp"
#include "vgt/models/vae.hpp"
#include "vgt/models/vae_blocks.hpp"
#include "vgt/models/vae_decoder.hpp"
#include "vgt/models/vae_encoder.hpp"
#include "vgt/models/vae_latent.hpp"
#include "vgt/models/vae_loss.hpp"
#include "vgt/models/vae_options.hpp"
#include "vgt/models/video_unet.hpp"
